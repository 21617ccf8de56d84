#include "outbound/smtp_courier.hpp"

#include "dns/idn.hpp"

#include <openssl/err.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <map>
#include <stdexcept>

#include "config/host_port.hpp"
#include "obs/log.hpp"

namespace postern::outbound {
namespace {

using delivery::Outcome;
using delivery::RecipientResult;
using smtp::client::ClientSettings;
using smtp::client::Close;
using smtp::client::Failed;
using smtp::client::MessageDone;
using smtp::client::Ready;
using smtp::client::SendBytes;
using smtp::client::Stage;
using smtp::client::StartTls;
using std::chrono::milliseconds;

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string domain_of(std::string_view address) {
  const std::size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : lowercase(address.substr(at + 1));
}

SSL_CTX* make_client_context(const std::filesystem::path& extra_ca) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) throw std::runtime_error("cannot create a TLS client context: " + openssl_error_text());
  // TLS 1.2 is the floor (RFC 8996).
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // The chain is always checked against the system store, but the handshake
  // never fails on it: opportunistic MX delivery goes ahead with an
  // untrusted certificate (RFC 7435) and only logs it; the smarthost
  // requires a trusted one, which the courier checks after the handshake.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_default_verify_paths(ctx);
  if (!extra_ca.empty() && SSL_CTX_load_verify_locations(ctx, extra_ca.c_str(), nullptr) != 1) {
    const std::string why = openssl_error_text();
    SSL_CTX_free(ctx);
    throw std::runtime_error("cannot load [delivery] smarthost_ca_file " + extra_ca.string() +
                             ": " + why);
  }
  return ctx;
}

std::vector<RecipientResult> all_with(std::size_t n, Outcome outcome, const std::string& reply,
                                      const std::string& where = "") {
  return std::vector<RecipientResult>(n, RecipientResult{outcome, reply, where});
}

}  // namespace

struct SmtpCourier::Event {
  enum class Kind { ready, done, failed } kind = Kind::failed;
  std::vector<RecipientReply> results;
  Failed failure;
};

SmtpCourier::SmtpCourier(const config::Config& config, std::shared_ptr<dns::Resolver> resolver,
                         CourierTuning tuning)
    : hostname_(config.hostname),
      delivery_(config.delivery),
      // Set in the file, or (in tests, which fill Config in directly) not
      // the default.
      command_timeout_set_(config.lines.contains("delivery.command_timeout") ||
                           config.delivery.command_timeout !=
                               config::DeliveryConfig{}.command_timeout),
      resolver_(std::move(resolver)),
      pool_(config.delivery.max_connections, config.delivery.max_connections_per_destination,
            tuning.idle_keep) {
  // A peer that vanishes mid-write must not kill the process (SSL_write
  // writes with plain write(2)).
  std::signal(SIGPIPE, SIG_IGN);
  if (!delivery_.smarthost.empty()) {
    std::string why;
    const auto hp = config::parse_host_port(delivery_.smarthost, why);
    if (!hp)
      throw std::runtime_error("[delivery] smarthost \"" + delivery_.smarthost + "\": " + why);
    smarthost_host_ = lowercase(hp->host);
    smarthost_port_ = hp->port;
    if (!delivery_.smarthost_user.empty()) {
      std::string password = delivery_.smarthost_password;
      if (!delivery_.smarthost_password_file.empty()) {
        std::ifstream in(delivery_.smarthost_password_file);
        if (!in || !std::getline(in, password)) {
          throw std::runtime_error("cannot read [delivery] smarthost_password_file " +
                                   delivery_.smarthost_password_file.string());
        }
        if (!password.empty() && password.back() == '\r') password.pop_back();
      }
      smarthost_credentials_ = Credentials{delivery_.smarthost_user, password};
    }
    smarthost_tls_ = make_client_context(delivery_.smarthost_ca_file);
  }
  mx_tls_ = make_client_context({});
  if (cancel_fd_.fd < 0)
    throw std::runtime_error("cannot create an eventfd for the outbound courier");
  reaper_thread_ = std::thread([this] { reaper(); });
}

SmtpCourier::~SmtpCourier() {
  {
    std::lock_guard lock(reaper_mutex_);
    stopping_ = true;
  }
  reaper_cv_.notify_all();
  reaper_thread_.join();
  if (mx_tls_) SSL_CTX_free(mx_tls_);

  if (smarthost_tls_) SSL_CTX_free(smarthost_tls_);
  // pool_ is destroyed after this body and QUITs its idle links; the
  // contexts are no longer needed for that (the SSL objects hold
  // references of their own).
}

SmtpCourier::CancelFd::CancelFd() : fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

SmtpCourier::CancelFd::~CancelFd() {
  if (fd >= 0) ::close(fd);
}

void SmtpCourier::cancel() {
  cancelled_ = true;
  const std::uint64_t one = 1;
  // Never read back: the descriptor stays readable, so every wait from now
  // on ends at once too.
  [[maybe_unused]] const ssize_t n = ::write(cancel_fd_.fd, &one, sizeof one);
}

void SmtpCourier::reaper() {
  std::unique_lock lock(reaper_mutex_);
  while (!stopping_) {
    reaper_cv_.wait_for(lock, std::chrono::milliseconds(250));
    if (stopping_) return;
    lock.unlock();
    pool_.expire();
    lock.lock();
  }
}

TlsPolicy SmtpCourier::policy_for(const std::string& domain) const {
  std::string mode = delivery_.tls;
  const auto it = delivery_.tls_policy.find(domain);
  if (it != delivery_.tls_policy.end()) mode = it->second;
  return mode == "required" ? TlsPolicy::required : TlsPolicy::opportunistic;
}

milliseconds SmtpCourier::step_timeout(std::chrono::milliseconds rfc_default) const {
  // An explicit [delivery] command_timeout bounds every step (tests and
  // impatient operators); otherwise each step has its RFC 5321 default.
  return command_timeout_set_ ? std::min(rfc_default, milliseconds(delivery_.command_timeout))
                              : rfc_default;
}

std::string SmtpCourier::key_of(const Target& t) const {
  return (t.smarthost ? "smarthost " : "mx ") + t.host + " " + t.ip + " " + std::to_string(t.port) +
         " " + std::to_string(static_cast<int>(t.tls)) + (t.implicit_tls ? " implicit" : "");
}

std::vector<RecipientResult> SmtpCourier::deliver(const spool::QueuedMessage& message,
                                                  std::string_view data,
                                                  const std::vector<std::size_t>& recipients) {
  std::vector<RecipientResult> out(recipients.size());
  if (cancelled_) {
    return all_with(recipients.size(), Outcome::transient, "4.3.2 delivery stopped: shutting down");
  }
  if (!smarthost_host_.empty()) {
    std::vector<std::size_t> indexes;
    for (const std::size_t i : recipients) indexes.push_back(i);
    const auto results = deliver_smarthost(message, data, indexes);
    for (std::size_t k = 0; k < out.size() && k < results.size(); ++k) out[k] = results[k];
    return out;
  }
  // One transaction per recipient domain, in the order of first appearance.
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::size_t>> positions;  // into `recipients`
  for (std::size_t k = 0; k < recipients.size(); ++k) {
    const std::string domain = domain_of(message.recipients[recipients[k]].recipient.address);
    if (!positions.contains(domain)) order.push_back(domain);
    positions[domain].push_back(k);
  }
  for (const std::string& domain : order) {
    const auto& ks = positions[domain];
    std::vector<std::size_t> indexes;
    for (const std::size_t k : ks) indexes.push_back(recipients[k]);
    const auto results = deliver_direct(message, data, domain, indexes);
    for (std::size_t j = 0; j < ks.size() && j < results.size(); ++j) out[ks[j]] = results[j];
  }
  return out;
}

namespace {

OutgoingMessage outgoing_for(const spool::QueuedMessage& m, std::string_view data,
                             const std::vector<std::size_t>& indexes) {
  OutgoingMessage o;
  o.mail_from = m.envelope.mail_from;
  for (const std::size_t i : indexes) o.recipients.push_back(m.recipients[i].recipient);
  o.data = data;
  o.eight_bit = m.envelope.eight_bit;
  o.smtputf8 = m.envelope.smtputf8;
  o.dsn_ret = m.envelope.dsn_ret;
  o.dsn_envid = m.envelope.dsn_envid;
  return o;
}

std::vector<RecipientResult> to_results(const std::vector<RecipientReply>& replies,
                                        const std::string& where) {
  std::vector<RecipientResult> out;
  for (const auto& r : replies) out.push_back(RecipientResult{r.outcome, r.reply, where});
  return out;
}

}  // namespace

std::vector<RecipientResult> SmtpCourier::deliver_direct(const spool::QueuedMessage& message,
                                                         std::string_view data,
                                                         const std::string& domain,
                                                         const std::vector<std::size_t>& rcpts) {
  const std::size_t n = rcpts.size();
  if (domain.empty()) return all_with(n, Outcome::permanent, "5.1.3 recipient has no domain");
  // DNS knows internationalised domains only in A-label form (RFC 5890);
  // the SMTP session accepted the UTF-8 form under SMTPUTF8.
  const auto a_label = dns::to_a_label(domain);
  if (!a_label) {
    return all_with(n, Outcome::permanent,
                    "5.1.2 domain " + domain + " is not a valid internationalised domain name");
  }
  const TlsPolicy tls = policy_for(*a_label);
  const dns::MxResult mx = resolver_->lookup_mx(*a_label);
  switch (mx.status) {
    case dns::Status::ok:
      break;
    case dns::Status::null_mx:
      return all_with(n, Outcome::permanent,
                      "5.1.10 domain " + domain + " accepts no mail (null MX, RFC 7505)");
    case dns::Status::nxdomain:
      return all_with(n, Outcome::permanent, "5.1.2 domain " + domain + " does not exist");
    case dns::Status::no_data:
      return all_with(n, Outcome::permanent,
                      "5.1.2 domain " + domain + " has no MX and no address record");
    case dns::Status::temporary_failure:
      return all_with(n, Outcome::transient,
                      "4.4.3 DNS lookup for " + domain + " failed: " + mx.error);
  }
  if (mx.hosts.empty()) {
    return all_with(n, Outcome::permanent, "5.1.2 domain " + domain + " has no mail host");
  }
  const OutgoingMessage outgoing = outgoing_for(message, data, rcpts);
  std::string last_error = "no MX host could be reached";
  for (const dns::MxHost& host : mx.hosts) {
    const dns::AddressResult addrs = resolver_->lookup_addresses(host.host);
    if (addrs.status != dns::Status::ok || addrs.addresses.empty()) {
      last_error = host.host + ": address lookup failed" +
                   (addrs.error.empty() ? std::string() : ": " + addrs.error);
      obs::warning("connect", "id={} host={} error=\"{}\"", message.id, host.host,
                   obs::sanitize(last_error));
      continue;
    }
    for (const std::string& ip : addrs.addresses) {
      Target t;
      t.host = host.host;
      t.ip = ip;
      t.port = delivery_.remote_port;
      t.tls = tls;
      Attempt a = attempt(t, message, outgoing);
      if (a.kind == Attempt::Kind::done) return to_results(a.results, a.where);
      last_error = a.where + ": " + a.error;
    }
  }
  return all_with(n, Outcome::transient, "4.4.1 " + last_error);
}

std::vector<RecipientResult> SmtpCourier::deliver_smarthost(const spool::QueuedMessage& message,
                                                            std::string_view data,
                                                            const std::vector<std::size_t>& rcpts) {
  const std::size_t n = rcpts.size();
  std::vector<std::string> addresses;
  if (config::is_ip_literal(smarthost_host_)) {
    addresses.push_back(smarthost_host_);
  } else {
    const dns::AddressResult r = resolver_->lookup_addresses(smarthost_host_);
    if (r.status == dns::Status::temporary_failure || r.addresses.empty()) {
      // Even "does not exist" is the operator's to fix: keep the mail.
      return all_with(n, Outcome::transient,
                      "4.4.3 cannot resolve smarthost " + smarthost_host_ +
                          (r.error.empty() ? std::string() : ": " + r.error));
    }
    addresses = r.addresses;
  }
  std::vector<std::uint16_t> ports{smarthost_port_};
  for (const std::uint16_t p : delivery_.fallback_ports) {
    if (std::find(ports.begin(), ports.end(), p) == ports.end()) ports.push_back(p);
  }
  const OutgoingMessage outgoing = outgoing_for(message, data, rcpts);
  std::string last_error;
  for (std::size_t pi = 0; pi < ports.size(); ++pi) {
    for (const std::string& ip : addresses) {
      Target t;
      t.host = smarthost_host_;
      t.ip = ip;
      t.port = ports[pi];
      t.smarthost = true;
      t.implicit_tls = delivery_.smarthost_tls == "implicit";
      t.tls = delivery_.smarthost_tls == "none" ? TlsPolicy::none : TlsPolicy::required;
      if (pi > 0) {
        obs::event("smarthost", "id={} host={}[{}]:{} note=\"trying fallback port\"", message.id,
                   t.host, ip, t.port);
      }
      Attempt a = attempt(t, message, outgoing);
      if (a.kind == Attempt::Kind::done) return to_results(a.results, a.where);
      last_error = a.where + ": " + a.error;
      // Fallback ports are for ports that refuse or time out; a server that
      // answered and then failed is not helped by another port.
      if (a.kind == Attempt::Kind::session_failed) {
        return all_with(n, Outcome::transient, "4.4.0 smarthost " + last_error);
      }
    }
  }
  return all_with(n, Outcome::transient, "4.4.1 smarthost unreachable: " + last_error);
}

SmtpCourier::Attempt SmtpCourier::attempt(const Target& target, const spool::QueuedMessage& message,
                                          const OutgoingMessage& outgoing) {
  // A pooled session to the same place first; a stale one (closed by the
  // peer while idle) shows itself at RSET and is dropped.
  const std::string key = key_of(target);
  while (std::unique_ptr<Link> link = pool_.take_idle(key)) {
    Attempt a = send_on(std::move(link), message, outgoing, true);
    if (a.kind == Attempt::Kind::done) return a;
  }
  Attempt a = attempt_fresh(target, message, outgoing);
  if (a.tls_failure && !target.smarthost && target.tls == TlsPolicy::opportunistic &&
      delivery_.tls_fallback_plaintext) {
    obs::warning("tls_outbound", "id={} host={} note=\"retrying in plaintext after: {}\"",
                 message.id, a.where, obs::sanitize(a.error));
    Target plain = target;
    plain.tls = TlsPolicy::none;
    return attempt_fresh(plain, message, outgoing);
  }
  return a;
}

SmtpCourier::Attempt SmtpCourier::attempt_fresh(const Target& target,
                                                const spool::QueuedMessage& message,
                                                const OutgoingMessage& outgoing) {
  Attempt a;
  a.where = target.host + "[" + target.ip + "]:" + std::to_string(target.port);
  const milliseconds connect_timeout = delivery_.connect_timeout;
  if (!pool_.acquire(target.host, connect_timeout)) {
    a.kind = Attempt::Kind::connect_failed;
    a.error = "too many outbound connections";
    return a;
  }
  ConnectError kind = ConnectError::none;
  std::string error;
  auto stream =
      BlockingStream::connect(target.ip, target.port, connect_timeout, kind, error, cancel_fd_.fd);
  if (!stream) {
    pool_.release(target.host);
    obs::warning("connect", "id={} host={} error=\"{}\"", message.id, a.where,
                 obs::sanitize(error));
    a.kind = Attempt::Kind::connect_failed;
    a.error = "connect: " + error;
    return a;
  }
  auto link = std::make_unique<Link>();
  link->stream = std::move(stream);
  link->key = key_of(target);
  link->destination = target.host;
  link->where = a.where;
  link->tls_context = target.smarthost ? smarthost_tls_ : mx_tls_;
  link->verify_host = target.host;
  link->require_trusted = target.smarthost;
  ClientSettings settings;
  settings.helo_name = hostname_;
  settings.tls = target.tls;
  if (target.smarthost) settings.credentials = smarthost_credentials_;
  if (target.implicit_tls) {
    if (!link->stream->start_tls(link->tls_context, link->verify_host,
                                 step_timeout(std::chrono::minutes(5)), error)) {
      obs::warning("tls_outbound", "id={} host={} error=\"{}\"", message.id, a.where,
                   obs::sanitize(error));
      link->stream->close();
      pool_.release(target.host);
      a.kind = Attempt::Kind::session_failed;
      a.error = "TLS handshake failed: " + error;
      return a;
    }
    const TlsDetails d = link->stream->tls_details();
    obs::event("tls_outbound", "id={} host={} trust={} version={} cipher={}", message.id,
               target.host,
               d.trusted            ? "Trusted"
               : d.peer_certificate ? "Untrusted"
                                    : "Anonymous",
               d.version, d.cipher);
    if (!d.trusted) {
      link->stream->close();
      pool_.release(target.host);
      a.kind = Attempt::Kind::session_failed;
      a.error = "smarthost certificate not trusted: " + d.verify_error;
      return a;
    }
    settings.tls_active = true;
  }
  link->session = std::make_unique<ClientSession>(settings);
  const Event e = drive(*link, message.id);
  if (e.kind != Event::Kind::ready) {
    link->stream->close();
    pool_.release(target.host);
    a.kind = Attempt::Kind::session_failed;
    a.error = e.failure.reason;
    a.tls_failure = e.failure.stage == Stage::tls_handshake || e.failure.stage == Stage::starttls;
    if (e.failure.stage == Stage::auth && settings.credentials) {
      obs::warning("auth_outbound", "id={} host={} user={} result=failed reason=\"{}\"", message.id,
                   a.where, obs::sanitize(settings.credentials->user), obs::sanitize(a.error));
    } else {
      obs::warning("connect", "id={} host={} error=\"{}\"", message.id, a.where,
                   obs::sanitize(a.error));
    }
    return a;
  }
  if (settings.credentials) {
    obs::event("auth_outbound", "id={} host={} user={} result=ok", message.id, a.where,
               obs::sanitize(settings.credentials->user));
  }
  return send_on(std::move(link), message, outgoing, false);
}

SmtpCourier::Attempt SmtpCourier::send_on(std::unique_ptr<Link> link,
                                          const spool::QueuedMessage& message,
                                          const OutgoingMessage& outgoing, bool reused) {
  Attempt a;
  a.where = link->where;
  link->session->send_message(outgoing);
  const Event e = drive(*link, message.id);
  if (e.kind == Event::Kind::done) {
    a.kind = Attempt::Kind::done;
    a.results = e.results;
    if (reused) {
      obs::event("reuse", "id={} host={} messages={}", message.id, link->where,
                 link->session->messages_sent());
    }
  } else {
    a.kind = Attempt::Kind::session_failed;
    a.error = e.failure.reason;
  }
  if (link->session->ready()) {
    pool_.put_idle(std::move(link));
  } else {
    link->stream->close();
    pool_.release(link->destination);
  }
  return a;
}

SmtpCourier::Event SmtpCourier::drive(Link& link, const std::string& queue_id) {
  using std::chrono::steady_clock;
  const milliseconds command_timeout = step_timeout(std::chrono::minutes(5));
  std::optional<Event> event;
  // Each awaited reply gets its step's time in all (RFC 5321 §4.5.3.2),
  // counted from when we began to wait for it: bytes that trickle in do
  // not extend it.
  std::size_t replies = link.session->replies_received();
  auto deadline = steady_clock::now() + step_timeout(link.session->reply_timeout());
  for (;;) {
    bool any = false;
    for (auto& action : link.session->take_actions()) {
      any = true;
      if (auto* send = std::get_if<SendBytes>(&action)) {
        std::string error;
        const IoStatus st = link.stream->write_all(
            send->bytes, step_timeout(ClientSession::kDataBlockTimeout), error);
        deadline = steady_clock::now() + step_timeout(link.session->reply_timeout());
        if (st == IoStatus::timeout) {
          link.session->timeout();
        } else if (st != IoStatus::ok) {
          link.session->peer_closed();
        }
      } else if (std::holds_alternative<StartTls>(action)) {
        std::string error;
        if (!link.stream->start_tls(link.tls_context, link.verify_host, command_timeout, error)) {
          obs::warning("tls_outbound", "id={} host={} error=\"{}\"", queue_id, link.where,
                       obs::sanitize(error));
          link.session->tls_failed(error);
          continue;
        }
        const TlsDetails d = link.stream->tls_details();
        obs::event("tls_outbound", "id={} host={} trust={} version={} cipher={}", queue_id,
                   link.verify_host,
                   d.trusted            ? "Trusted"
                   : d.peer_certificate ? "Untrusted"
                                        : "Anonymous",
                   d.version, d.cipher);
        if (link.require_trusted && !d.trusted) {
          link.session->tls_failed("certificate not trusted: " + d.verify_error);
          continue;
        }
        link.session->tls_established();
      } else if (std::holds_alternative<Ready>(action)) {
        event = Event{Event::Kind::ready, {}, {}};
      } else if (auto* done = std::get_if<MessageDone>(&action)) {
        event = Event{Event::Kind::done, std::move(done->results), {}};
      } else if (auto* failed = std::get_if<Failed>(&action)) {
        if (!event) event = Event{Event::Kind::failed, {}, *failed};
      } else if (std::holds_alternative<Close>(action)) {
        link.stream->close();
      }
    }
    if (any) continue;  // calls made while acting may have queued more
    if (event) return *event;
    if (!link.session->wants_input()) {
      Failed f;
      f.reason = "connection closed";
      return Event{Event::Kind::failed, {}, f};
    }
    if (link.session->replies_received() != replies) {
      replies = link.session->replies_received();
      deadline = steady_clock::now() + step_timeout(link.session->reply_timeout());
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0) {
      link.session->timeout();
      continue;
    }
    std::string bytes;
    std::string error;
    const IoStatus st = link.stream->read_some(bytes, left, error);
    if (st == IoStatus::ok) {
      link.session->feed(bytes);
    } else if (st == IoStatus::timeout) {
      link.session->timeout();
    } else {
      link.session->peer_closed();
    }
  }
}

}  // namespace postern::outbound
