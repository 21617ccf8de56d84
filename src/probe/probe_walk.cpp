// run_probe(): the walk of SPEC §3.1, one step after the other, each timed,
// stopping at the first broken one. The SMTP dialogue is driven here step
// by step (ClientSession is built to deliver, not to stop and explain at
// every step), but from the client protocol's own parts: replies are split
// by smtp::client::ReplyReader, the EHLO reply is read by
// parse_capabilities() and MAIL FROM / AUTH PLAIN are spelled by the
// builders of smtp/client_commands.hpp, exactly as delivery does; the
// pure functions of diagnosis.hpp judge the replies.
#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <memory>

#include "config/host_port.hpp"
#include "core/text.hpp"
#include "dns/idn.hpp"
#include "dns/resolver.hpp"
#include "outbound/blocking_stream.hpp"
#include "probe/certificate_check.hpp"
#include "probe/diagnosis.hpp"
#include "probe/probe.hpp"
#include "probe/reply_queue_id.hpp"
#include "probe/transcript.hpp"
#include "sasl/sasl.hpp"
#include "smtp/reply_reader.hpp"
#include "smtp/wire_detect.hpp"

namespace postern::probe {
namespace {

using Clock = std::chrono::steady_clock;
using outbound::BlockingStream;
using outbound::ConnectError;
using outbound::IoStatus;
using smtp::handshake_error_means_plaintext;
using smtp::looks_like_tls_record;
using smtp::client::Capabilities;
using smtp::client::ReplyReader;
using smtp::client::ServerReply;
using std::chrono::milliseconds;

// --tls auto: a plaintext server greets at once (RFC 5321 §3.1 lets it
// wait, few do for long); this much silence means "try implicit TLS".
constexpr milliseconds kAutoBannerWait{3000};
// The second connection that names the right mode after a mismatch.
constexpr milliseconds kSideCheckWait{3000};
constexpr milliseconds kQuitWait{1000};

milliseconds at_most(milliseconds a, milliseconds b) {
  return std::min(a, b);
}

std::string seconds_text(milliseconds ms) {
  const long long tenths = (ms.count() + 50) / 100;
  return std::to_string(tenths / 10) + (tenths % 10 ? "." + std::to_string(tenths % 10) : "") +
         " s";
}

std::string local_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// One TCP connection and the replies read from it.
struct Connection {
  std::unique_ptr<BlockingStream> stream;
  ReplyReader reader;
};

enum class ReadOutcome { ok, timeout, closed, error, malformed, tls_bytes };

class Walk {
 public:
  explicit Walk(const ProbeOptions& options) : o_(options), log_(options.transcript) {
    r_.host = o_.host;
    r_.port = o_.port;
  }

  ProbeResult run() {
    if (resolve() && connect_step() && open_session() && ehlo_step(false) && tls_step() &&
        auth_step() && envelope_steps() && data_step()) {
      r_.diagnosis = Diagnosis::ok;
    }
    quit();
    explain(r_, o_);
    return std::move(r_);
  }

 private:
  // ---- step bookkeeping ----------------------------------------------------
  void begin() { step_start_ = Clock::now(); }

  milliseconds elapsed() const {
    return std::chrono::duration_cast<milliseconds>(Clock::now() - step_start_);
  }

  bool pass(Stage stage, std::string detail) {
    r_.steps.push_back({stage, true, elapsed(), std::move(detail)});
    return true;
  }

  bool fail(Stage stage, Diagnosis diagnosis, std::string detail) {
    r_.steps.push_back({stage, false, elapsed(), std::move(detail)});
    r_.diagnosis = diagnosis;
    r_.failed_stage = stage;
    return false;
  }

  // ---- I/O helpers -----------------------------------------------------------
  std::unique_ptr<BlockingStream> open(ConnectError& kind, std::string& error) {
    return BlockingStream::connect(r_.address, o_.port, o_.timeout, kind, error);
  }

  bool send(Connection& c, std::string_view line, bool secret = false) {
    if (secret) {
      log_.sent_secret();
    } else {
      log_.sent(line);
    }
    std::string error;
    return c.stream->write_all(std::string(line) + "\r\n", o_.timeout, error) == IoStatus::ok;
  }

  // Reads one whole reply. With `watch_tls`, TLS record bytes where a
  // plaintext greeting belongs end the read with tls_bytes.
  ReadOutcome read_reply(Connection& c, ServerReply& reply, milliseconds wait, std::string& error,
                         bool watch_tls = false) {
    const auto deadline = Clock::now() + wait;
    bool first = true;
    for (;;) {
      const ReplyReader::Result res = c.reader.next(reply);
      if (res == ReplyReader::Result::complete) {
        for (std::size_t i = 0; i < reply.lines.size(); ++i) {
          const bool last = i + 1 == reply.lines.size();
          log_.received(std::to_string(reply.code) + (last ? " " : "-") + reply.lines[i]);
        }
        return ReadOutcome::ok;
      }
      if (res == ReplyReader::Result::malformed) {
        error = "not an SMTP reply";
        return ReadOutcome::malformed;
      }
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return ReadOutcome::timeout;
      std::string bytes;
      const IoStatus st = c.stream->read_some(bytes, left, error);
      if (st == IoStatus::timeout) return ReadOutcome::timeout;
      if (st == IoStatus::closed) return ReadOutcome::closed;
      if (st != IoStatus::ok) return ReadOutcome::error;
      if (first && watch_tls && c.reader.buffered() == 0 && looks_like_tls_record(bytes)) {
        return ReadOutcome::tls_bytes;
      }
      first = false;
      c.reader.append(bytes);
    }
  }

  // A failure to get a reply to `command`, as a step result.
  bool reply_failure(Stage stage, std::string_view command, ReadOutcome outcome,
                     const std::string& error) {
    switch (outcome) {
      case ReadOutcome::timeout:
        return fail(stage, Diagnosis::protocol_error,
                    "no reply to " + std::string(command) + " within " + seconds_text(o_.timeout));
      case ReadOutcome::closed:
        return fail(stage, Diagnosis::protocol_error,
                    "the server closed the connection after " + std::string(command));
      case ReadOutcome::malformed:
      case ReadOutcome::tls_bytes:
        return fail(stage, Diagnosis::protocol_error,
                    "the answer to " + std::string(command) + " is not an SMTP reply");
      case ReadOutcome::error:
      case ReadOutcome::ok:
        break;
    }
    return fail(stage, Diagnosis::protocol_error,
                "reading the reply to " + std::string(command) + " failed: " + error);
  }

  // Sends a command and reads its reply; false (with the step failed) when
  // there is no proper reply.
  bool exchange(Stage stage, std::string_view command, ServerReply& reply, bool secret = false) {
    std::string error;
    const std::string shown = secret ? std::string(kMasked) : mask_command(command);
    if (!send(conn_, command, secret)) {
      return fail(stage, Diagnosis::protocol_error, "sending " + shown + " failed");
    }
    const ReadOutcome outcome = read_reply(conn_, reply, o_.timeout, error);
    if (outcome != ReadOutcome::ok) return reply_failure(stage, shown, outcome, error);
    return true;
  }

  SSL_CTX* tls_context() {
    if (ctx_) return ctx_.get();
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx_) return nullptr;
    SSL_CTX_set_default_verify_paths(ctx_.get());
    if (!o_.ca_file.empty() &&
        SSL_CTX_load_verify_locations(ctx_.get(), o_.ca_file.c_str(), nullptr) != 1) {
      log_.info("cannot load --ca-file " + o_.ca_file + ": " + outbound::openssl_error_text());
    }
    collector_.install(ctx_.get());
    return ctx_.get();
  }

  bool handshake(BlockingStream& stream, milliseconds wait, std::string& error) {
    SSL_CTX* ctx = tls_context();
    if (!ctx) {
      error = "cannot create a TLS context: " + outbound::openssl_error_text();
      return false;
    }
    collector_.reset();
    log_.info("TLS handshake; the certificate must cover " + o_.host);
    if (!stream.start_tls(ctx, o_.host, wait, error)) return false;
    const outbound::TlsDetails d = stream.tls_details();
    r_.tls_version = d.version;
    r_.tls_cipher = d.cipher;
    log_.info("TLS established: " + d.version + " " + d.cipher);
    return true;
  }

  // ---- dns -------------------------------------------------------------------
  bool resolve() {
    begin();
    bool v6 = false;
    if (config::is_ip_literal(o_.host, &v6)) {
      if ((v6 && o_.ipv4_only) || (!v6 && o_.ipv6_only)) {
        return fail(Stage::dns, Diagnosis::name_not_found,
                    o_.host + " is an IPv" + (v6 ? "6" : "4") + " address but --ipv" +
                        (v6 ? "4" : "6") + " was given");
      }
      r_.addresses = {o_.host};
      return pass(Stage::dns, o_.host + " (an IP address: no lookup)");
    }
    const std::optional<std::string> name = dns::to_a_label(o_.host);
    if (!name) {
      return fail(Stage::dns, Diagnosis::name_not_found, o_.host + " is not a valid host name");
    }
    dns::AddressResult found;
    try {
      dns::ResolverOptions ro;
      ro.server = o_.resolver;
      ro.timeout = o_.timeout;
      found = dns::Resolver::create(ro)->lookup_addresses(*name);
    } catch (const std::exception& e) {
      return fail(Stage::dns, Diagnosis::dns_failure, e.what());
    }
    if (found.status == dns::Status::nxdomain || found.status == dns::Status::no_data ||
        found.status == dns::Status::null_mx) {
      return fail(Stage::dns, Diagnosis::name_not_found, found.error);
    }
    if (found.status != dns::Status::ok) {
      return fail(Stage::dns, Diagnosis::dns_failure, found.error);
    }
    for (const std::string& a : found.addresses) {
      const bool is_v6 = a.find(':') != std::string::npos;
      if ((is_v6 && o_.ipv4_only) || (!is_v6 && o_.ipv6_only)) continue;
      r_.addresses.push_back(a);
    }
    if (r_.addresses.empty()) {
      return fail(Stage::dns, Diagnosis::name_not_found,
                  o_.host + " has no IPv" + std::string(o_.ipv4_only ? "4" : "6") +
                      " address (it has: " + join(found.addresses, ", ") + ")");
    }
    return pass(Stage::dns, join(r_.addresses, ", "));
  }

  // ---- connect ---------------------------------------------------------------
  bool connect_step() {
    begin();
    ConnectError kind = ConnectError::other;
    std::string error;
    std::vector<std::string> failures;
    for (const std::string& address : r_.addresses) {
      r_.address = address;
      log_.info("connecting to " + address + " port " + std::to_string(o_.port));
      conn_.stream = open(kind, error);
      if (conn_.stream) {
        const bool v6 = address.find(':') != std::string::npos;
        return pass(Stage::connect,
                    (v6 ? "[" + address + "]" : address) + ":" + std::to_string(o_.port));
      }
      failures.push_back(address + ": " + error);
    }
    const std::string detail = join(failures, "; ");
    switch (kind) {
      case ConnectError::refused:
        return fail(Stage::connect, Diagnosis::connect_refused, detail);
      case ConnectError::timeout:
        return fail(Stage::connect, Diagnosis::connect_timeout, detail);
      case ConnectError::other:
      case ConnectError::none:
        break;
    }
    return fail(Stage::connect, Diagnosis::network_unreachable, detail);
  }

  // ---- banner and TLS mode -------------------------------------------------
  bool open_session() {
    switch (o_.tls) {
      case TlsChoice::implicit:
        return implicit_tls(o_.timeout) && banner_step(o_.timeout);
      case TlsChoice::starttls:
      case TlsChoice::none:
        return plaintext_banner(o_.timeout, false);
      case TlsChoice::automatic:
        return plaintext_banner(at_most(o_.timeout, kAutoBannerWait), true);
    }
    return false;
  }

  // The greeting over an established (possibly TLS) connection.
  bool banner_step(milliseconds wait) {
    begin();
    ServerReply reply;
    std::string error;
    const ReadOutcome outcome = read_reply(conn_, reply, wait, error);
    if (outcome == ReadOutcome::timeout) {
      return fail(Stage::banner, Diagnosis::banner_timeout,
                  "no greeting within " + seconds_text(wait));
    }
    if (outcome != ReadOutcome::ok) return reply_failure(Stage::banner, "connect", outcome, error);
    return judge_banner(reply);
  }

  bool judge_banner(const ServerReply& reply) {
    r_.banner = reply.summary();
    const Diagnosis d = classify_banner(reply);
    if (d != Diagnosis::ok) {
      r_.server_reply = reply.summary();
      return fail(Stage::banner, d, reply.summary());
    }
    return pass(Stage::banner, reply.summary());
  }

  // Plaintext first: starttls, none and the first look of auto.
  bool plaintext_banner(milliseconds wait, bool automatic) {
    begin();
    ServerReply reply;
    std::string error;
    const ReadOutcome outcome = read_reply(conn_, reply, wait, error, true);
    if (outcome == ReadOutcome::ok) return judge_banner(reply);
    if (outcome == ReadOutcome::tls_bytes) {
      r_.tls_found = TlsFound::implicit;
      return fail(Stage::banner, Diagnosis::expects_implicit_tls,
                  "TLS bytes came back where a plaintext greeting belongs");
    }
    if (outcome != ReadOutcome::timeout) {
      return reply_failure(Stage::banner, "connect", outcome, error);
    }
    log_.info("no plaintext greeting within " + seconds_text(wait));
    if (automatic) return automatic_after_silence(wait);
    // Silence where plaintext was expected: does this port wait for a TLS
    // ClientHello? Ask on a second connection (closing the first: a server
    // may serve one client at a time).
    conn_.stream.reset();
    Connection side;
    ConnectError kind = ConnectError::none;
    if ((side.stream = open(kind, error))) {
      log_.info("second connection: trying implicit TLS");
      if (handshake(*side.stream, at_most(o_.timeout, kSideCheckWait), error)) {
        r_.tls_found = TlsFound::implicit;
        return fail(Stage::banner, Diagnosis::expects_implicit_tls,
                    "no greeting within " + seconds_text(wait) +
                        "; a TLS handshake on a second connection worked (" + r_.tls_version + ")");
      }
      log_.info("implicit TLS failed too: " + error);
    }
    return fail(Stage::banner, Diagnosis::banner_timeout,
                "no greeting within " + seconds_text(wait) + " and no TLS either");
  }

  // --tls auto after a silent start: implicit TLS on a new connection; if
  // that meets plaintext after all, the greeting was only slow.
  bool automatic_after_silence(milliseconds waited) {
    std::string error;
    ConnectError kind = ConnectError::none;
    conn_ = Connection{};
    log_.info("trying implicit TLS on a new connection");
    conn_.stream = open(kind, error);
    if (!conn_.stream) return fail(Stage::banner, Diagnosis::banner_timeout, error);
    begin();
    if (handshake(*conn_.stream, o_.timeout, error)) {
      r_.tls_found = TlsFound::implicit;
      pass(Stage::tls,
           "implicit TLS (found by --tls auto): " + r_.tls_version + " " + r_.tls_cipher);
      return certificate_step() && banner_step(o_.timeout);
    }
    if (!handshake_error_means_plaintext(error)) {
      return fail(Stage::banner, Diagnosis::banner_timeout,
                  "no greeting within " + seconds_text(waited) + ", and TLS failed: " + error);
    }
    log_.info("the server answered in plaintext after all: waiting longer for its greeting");
    conn_ = Connection{};
    conn_.stream = open(kind, error);
    if (!conn_.stream) return fail(Stage::banner, Diagnosis::banner_timeout, error);
    return plaintext_banner(o_.timeout, false);
  }

  // Implicit TLS (RFC 8314 §3.3): the handshake before anything else.
  bool implicit_tls(milliseconds wait) {
    begin();
    std::string error;
    if (handshake(*conn_.stream, wait, error)) {
      r_.tls_found = TlsFound::implicit;
      pass(Stage::tls, "implicit TLS: " + r_.tls_version + " " + r_.tls_cipher);
      return certificate_step();
    }
    if (!handshake_error_means_plaintext(error)) {
      r_.server_reply = error;
      return fail(Stage::tls, Diagnosis::tls_handshake_failed, error);
    }
    // The server spoke plaintext. Name the mode it wants: greet and EHLO on
    // a second connection to see whether it offers STARTTLS.
    const milliseconds tls_elapsed = elapsed();
    conn_.stream.reset();  // useless after the failed handshake; frees a slot
    Connection side;
    ConnectError kind = ConnectError::none;
    r_.tls_found = TlsFound::starttls;
    if ((side.stream = open(kind, error))) {
      log_.info("second connection: plaintext, to see what the port offers");
      ServerReply reply;
      const milliseconds side_wait = at_most(o_.timeout, kSideCheckWait);
      if (read_reply(side, reply, side_wait, error) == ReadOutcome::ok) {
        r_.banner = reply.summary();
        if (send(side, "EHLO " + helo_name()) &&
            read_reply(side, reply, side_wait, error) == ReadOutcome::ok && reply.code == 250) {
          const Capabilities info = smtp::client::parse_capabilities(reply);
          r_.starttls_offered = info.starttls;
          r_.tls_found = info.starttls ? TlsFound::starttls : TlsFound::plaintext;
          r_.auth_mechanisms_before_tls = info.auth;
        }
        send(side, "QUIT");
      }
    }
    r_.steps.push_back({Stage::tls, false, tls_elapsed,
                        "the server answered the TLS handshake in plaintext (" +
                            (r_.banner.empty() ? error : r_.banner) + ")"});
    r_.diagnosis = Diagnosis::expects_plaintext;
    r_.failed_stage = Stage::tls;
    return false;
  }

  std::string helo_name() const { return o_.helo_name.empty() ? local_hostname() : o_.helo_name; }

  // ---- ehlo ------------------------------------------------------------------
  bool ehlo_step(bool after_tls) {
    begin();
    ServerReply reply;
    if (!exchange(Stage::ehlo, "EHLO " + helo_name(), reply)) return false;
    if (reply.code != 250) {
      r_.server_reply = reply.summary();
      return fail(Stage::ehlo, Diagnosis::ehlo_rejected, reply.summary());
    }
    ehlo_ = smtp::client::parse_capabilities(reply);
    if (ehlo_.size_limit) r_.size_limit = ehlo_.size_limit;
    if (after_tls || conn_.stream->tls_active()) {
      r_.auth_mechanisms = ehlo_.auth;
    } else {
      r_.starttls_offered = ehlo_.starttls;
      r_.auth_mechanisms_before_tls = ehlo_.auth;
      r_.auth_mechanisms = ehlo_.auth;
    }
    std::vector<std::string> seen;
    if (ehlo_.starttls) seen.push_back("STARTTLS");
    seen.push_back(ehlo_.auth.empty() ? "no AUTH" : "AUTH " + join(ehlo_.auth, " "));
    if (ehlo_.size_limit) seen.push_back("SIZE " + std::to_string(ehlo_.size_limit));
    return pass(Stage::ehlo, (after_tls ? "after TLS: " : "") + join(seen, ", "));
  }

  // ---- STARTTLS ----------------------------------------------------------------
  bool tls_step() {
    if (conn_.stream->tls_active()) return true;  // implicit TLS, done already
    const bool offered = ehlo_.starttls;
    switch (o_.tls) {
      case TlsChoice::none:
        r_.tls_found = offered ? TlsFound::starttls : TlsFound::plaintext;
        return true;
      case TlsChoice::automatic:
        if (!offered) {
          r_.tls_found = TlsFound::plaintext;
          if (!o_.user) return true;
          begin();
          return fail(Stage::tls, Diagnosis::starttls_not_offered,
                      "no STARTTLS in the EHLO reply; not sending a password in plaintext");
        }
        break;
      case TlsChoice::starttls:
        if (!offered) {
          begin();
          r_.tls_found = TlsFound::plaintext;
          return fail(Stage::tls, Diagnosis::starttls_not_offered, "no STARTTLS in the EHLO reply");
        }
        break;
      case TlsChoice::implicit:
        break;
    }
    r_.tls_found = TlsFound::starttls;
    begin();
    ServerReply reply;
    if (!exchange(Stage::tls, "STARTTLS", reply)) return false;
    if (reply.code != 220) {
      r_.server_reply = reply.summary();
      return fail(Stage::tls, Diagnosis::tls_handshake_failed, reply.summary());
    }
    // RFC 3207 §4.2: nothing the server sent before the handshake counts.
    conn_.reader.clear();
    std::string error;
    if (!handshake(*conn_.stream, o_.timeout, error)) {
      r_.server_reply = error;
      return fail(Stage::tls, Diagnosis::tls_handshake_failed, error);
    }
    pass(Stage::tls, "STARTTLS: " + r_.tls_version + " " + r_.tls_cipher);
    // RFC 3207 §4.2: forget what was learnt before TLS; EHLO again.
    return certificate_step() && ehlo_step(true);
  }

  // ---- certificate -------------------------------------------------------------
  bool certificate_step() {
    begin();
    r_.certificate = collector_.info(o_.host);
    const CertificateInfo& c = r_.certificate;
    const Diagnosis d = certificate_problem(c);
    if (!c.present) return fail(Stage::certificate, d, "the server sent no certificate");
    std::string detail = c.subject + ", issued by " + c.issuer + ", valid until " + c.not_after +
                         ", names: " + join(c.names, " ");
    if (d != Diagnosis::ok) {
      if (!c.verify_error.empty()) detail += " (" + c.verify_error + ")";
      return fail(Stage::certificate, d, detail);
    }
    return pass(Stage::certificate, detail);
  }

  // ---- AUTH ------------------------------------------------------------------
  bool auth_step() {
    if (!o_.user) return true;
    begin();
    const bool tls = conn_.stream->tls_active();
    if (ehlo_.auth.empty()) {
      if (!tls && r_.starttls_offered) {
        return fail(Stage::auth, Diagnosis::auth_not_offered_before_tls,
                    "no AUTH before STARTTLS (the server offers STARTTLS)");
      }
      return fail(Stage::auth, Diagnosis::auth_not_offered, "no AUTH in the EHLO reply");
    }
    const std::string mechanism = choose_mechanism(ehlo_.auth);
    if (mechanism.empty()) {
      return fail(Stage::auth, Diagnosis::auth_mechanism_unsupported,
                  "offered: " + join(ehlo_.auth, " "));
    }
    const std::string& user = *o_.user;
    const std::string password = o_.password.value_or("");
    ServerReply reply;
    if (mechanism == "PLAIN") {
      if (!exchange(Stage::auth, smtp::client::auth_plain_command(user, password), reply)) {
        return false;
      }
    } else {
      if (!exchange(Stage::auth, "AUTH LOGIN", reply)) return false;
      if (reply.code == 334 && !exchange(Stage::auth, sasl::base64_encode(user), reply, true)) {
        return false;
      }
      if (reply.code == 334 && !exchange(Stage::auth, sasl::base64_encode(password), reply, true)) {
        return false;
      }
    }
    const Diagnosis d = classify_auth(reply);
    if (d != Diagnosis::ok) {
      r_.server_reply = reply.summary();
      return fail(Stage::auth, d, "AUTH " + mechanism + " as " + user + ": " + reply.summary());
    }
    return pass(Stage::auth, "AUTH " + mechanism + " as " + user + ": " + reply.summary());
  }

  // ---- MAIL / RCPT -----------------------------------------------------------
  bool envelope_steps() {
    if (!o_.mail_from && o_.rcpt_to.empty()) return true;
    std::string sender = o_.mail_from.value_or("");
    if (!o_.mail_from && o_.user && o_.user->find('@') != std::string::npos) sender = *o_.user;
    begin();
    ServerReply reply;
    if (!exchange(Stage::mail, mail_command(sender, o_.rcpt_to, o_.message, ehlo_), reply)) {
      return false;
    }
    Diagnosis d = classify_mail(reply);
    if (d != Diagnosis::ok) {
      r_.server_reply = reply.summary();
      return fail(Stage::mail, d, "<" + sender + ">: " + reply.summary());
    }
    pass(Stage::mail, "<" + sender + ">: " + reply.summary());
    for (const std::string& rcpt : o_.rcpt_to) {
      begin();
      if (!exchange(Stage::rcpt, "RCPT TO:<" + rcpt + ">", reply)) return false;
      d = classify_rcpt(reply);
      if (d != Diagnosis::ok) {
        r_.server_reply = reply.summary();
        return fail(Stage::rcpt, d, "<" + rcpt + ">: " + reply.summary());
      }
      pass(Stage::rcpt, "<" + rcpt + ">: " + reply.summary());
    }
    return true;
  }

  // ---- DATA (postern send) ---------------------------------------------------
  bool data_step() {
    if (!o_.message) return true;
    begin();
    ServerReply reply;
    if (!exchange(Stage::data, "DATA", reply)) return false;
    if (reply.code != 354) {
      r_.server_reply = reply.summary();
      const Diagnosis d = classify_data(reply);
      return fail(Stage::data, d == Diagnosis::ok ? Diagnosis::protocol_error : d, reply.summary());
    }
    const std::string wire = smtp::client::encode_data(*o_.message);
    log_.info("(message: " + std::to_string(wire.size()) + " octets, ending with \".\")");
    std::string error;
    if (conn_.stream->write_all(wire, o_.timeout, error) != IoStatus::ok) {
      return fail(Stage::data, Diagnosis::protocol_error, "sending the message failed: " + error);
    }
    const ReadOutcome outcome = read_reply(conn_, reply, o_.timeout, error);
    if (outcome != ReadOutcome::ok) {
      return reply_failure(Stage::data, "the end of the message", outcome, error);
    }
    r_.server_reply = reply.summary();
    const Diagnosis d = classify_data(reply);
    if (d != Diagnosis::ok) return fail(Stage::data, d, reply.summary());
    r_.queue_id = find_queue_id(reply.summary());
    return pass(Stage::data, reply.summary());
  }

  void quit() {
    if (!conn_.stream) return;
    if (send(conn_, "QUIT")) {
      ServerReply reply;
      std::string error;
      read_reply(conn_, reply, kQuitWait, error);
    }
    conn_.stream->close();
  }

  struct CtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
  };

  const ProbeOptions& o_;
  ProbeResult r_;
  Transcript log_;
  Connection conn_;
  Capabilities ehlo_;
  CertificateCollector collector_;
  // Every SSL made from it holds a reference, so the order of release does
  // not matter; the collector outlives the handshakes (they end in quit()).
  std::unique_ptr<SSL_CTX, CtxFree> ctx_;
  Clock::time_point step_start_ = Clock::now();
};

}  // namespace

ProbeResult run_probe(const ProbeOptions& options) {
  return Walk(options).run();
}

}  // namespace postern::probe
