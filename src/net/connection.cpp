#include "net/connection.hpp"

#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <optional>
#include <variant>

#include "auth/throttle.hpp"
#include "auth/user_store.hpp"
#include "limits/user_limits.hpp"
#include "mailauth/auth_results/forged.hpp"
#include "metrics/server_metrics.hpp"
#include "net/async_bridge.hpp"
#include "net/inbound_checks.hpp"
#include "net/progress_deadlines.hpp"
#include "net/tls_context.hpp"
#include "net/tls_socket.hpp"
#include "obs/log.hpp"
#include "smtp/server_session.hpp"

namespace postern::net {
namespace {

using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

// A TLS handshake gets this long at most; the last reply after a timeout
// and a close_notify get their own short bounds. Everything else runs
// against the session's idle deadline.
constexpr std::chrono::seconds kHandshakeTimeout{30};
constexpr std::chrono::seconds kLastWordTimeout{10};
constexpr std::chrono::seconds kCloseNotifyTimeout{2};
constexpr std::size_t kReadChunk = 4096;

std::string new_session_id() {
  // 12 hex digits: unique enough to grep for across a busy day's log.
  unsigned char raw[6];
  RAND_bytes(raw, sizeof raw);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : raw) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

std::string ip_text(const tcp::endpoint& ep) {
  auto addr = ep.address();
  // A v4 client on a dual-stack socket is still a v4 client for limits and
  // relay_networks.
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_string();
  }
  return addr.to_string();
}

bool in_networks(const std::vector<config::Network>& networks, const std::string& ip) {
  for (const auto& n : networks) {
    if (n.contains(ip)) return true;
  }
  return false;
}

// One connection's I/O state. Lives in the coroutine frame.
//
// Timeouts: one deadline per connection, watched by one timer (watch()),
// rather than a timer raced against every read and write. When the
// deadline passes, the watchdog cancels what is pending on the socket and
// the operation reports asio::error::timed_out. Moving the deadline later
// (progress) costs nothing: the watchdog, when it wakes, sees the new
// deadline and sleeps again. Racing a timer per operation with awaitable
// operators cost two spawned coroutines and a thrown exception per read
// and per write (bench/README.md, "Where the time goes").
class Driver {
 public:
  Driver(tcp::socket& socket, const config::ListenerConfig& listener, SharedState& shared,
         const SessionPolicy& policy, smtp::ServerSession& session, std::string session_id,
         std::string client, std::chrono::seconds idle_timeout)
      : socket_(socket),
        listener_(listener),
        shared_(shared),
        policy_(policy),
        session_(session),
        id_(std::move(session_id)),
        client_(std::move(client)),
        timer_(socket.get_executor()),
        watchdog_(socket.get_executor()),
        progress_(idle_timeout) {}

  asio::awaitable<void> run() {
    progress_.start(Clock::now());
    set_deadline(progress_.deadline());
    if (listener_.tls == TlsMode::implicit) {
      if (!co_await handshake()) co_return;
    }
    session_.set_now(std::chrono::system_clock::now());
    session_.start();
    std::array<char, kReadChunk> buf;
    // The deadline is for progress, not for any byte: a client that
    // trickles must not hold a session forever (ProgressDeadlines says
    // what progress is and how long each step may take).
    for (;;) {
      if (!co_await carry_out_actions()) break;
      if (session_.closed()) break;
      if (!session_.wants_input()) {
        // Every asynchronous action is awaited inside carry_out_actions, so
        // a paused session here is a bug in the session; fail closed.
        obs::error("internal", "session={} client={} error=\"session paused without an action\"",
                   id_, client_);
        break;
      }
      std::error_code ec;
      const std::size_t n = co_await read_some(buf, ec);
      session_.set_now(std::chrono::system_clock::now());
      if (ec == asio::error::timed_out) {
        if (const auto rule = progress_.rule(); rule != "idle") {
          obs::warning("slow_client",
                       "session={} client={} rule={} action=\"answered 421\" "
                       "doc=\"docs/limits.md, Slow clients\"",
                       id_, client_, rule);
        }
        // The 421 goes out under a short deadline of its own.
        set_deadline(Clock::now() + kLastWordTimeout);
        session_.timeout();
      } else if (ec) {
        session_.peer_closed();
      } else {
        session_.feed(std::string_view(buf.data(), n));
        const bool in_message = session_.receiving_message();
        progress_.bytes(Clock::now(), n, in_message, !in_message && session_.buffered() > 0);
        // Usually later than the armed one, which costs nothing; earlier
        // only for a partial command line or the start of content.
        set_deadline(progress_.deadline());
      }
    }
    co_await shutdown();
  }

  // Runs beside run() for the whole connection and ends only when run()
  // does (the awaitable operator cancels it).
  asio::awaitable<void> watch() {
    for (;;) {
      watchdog_.expires_at(deadline_);
      std::error_code ec;
      co_await watchdog_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      const auto state = co_await asio::this_coro::cancellation_state;
      if (state.cancelled() != asio::cancellation_type::none) co_return;
      // Woken early because the deadline moved: just sleep again.
      if (Clock::now() < deadline_) continue;
      timed_out_ = true;
      deadline_ = Clock::time_point::max();  // until run() sets the next one
      socket_.cancel(ec);
    }
  }

  std::string_view close_reason() const { return close_reason_; }
  // The session was admitted only to be told 421 (a session limit).
  void mark_refused() { refused_ = true; }

 private:
  // Moves the deadline; an earlier one wakes the watchdog to re-arm (which
  // happens for a handshake and the last words, not per command).
  void set_deadline(Clock::time_point deadline) {
    deadline_ = deadline;
    timed_out_ = false;
    if (deadline < watchdog_.expiry()) watchdog_.expires_at(deadline);
  }

  // Returns false when the connection is finished.
  asio::awaitable<bool> carry_out_actions() {
    for (;;) {
      auto actions = session_.take_actions();
      if (actions.empty()) break;
      for (auto& action : actions) {
        if (auto* send = std::get_if<smtp::SendReply>(&action)) {
          out_ += send->bytes;
        } else if (auto* log = std::get_if<smtp::LogEvent>(&action)) {
          obs::log_line(log->warning ? obs::Level::warning : obs::Level::info, log->event,
                        log->fields);
          // A refused connection is counted as such in serve_connection.
          if (log->event == "reject" && !refused_) {
            metrics::message_rejected(log->reply.code == 0 ? std::string("protocol")
                                                           : metrics::reject_reason(log->reply));
          }
        } else if (auto* close = std::get_if<smtp::Close>(&action)) {
          close_reason_ = close->reason;
          co_await flush();
          co_return false;
        } else if (std::holds_alternative<smtp::StartTls>(action)) {
          if (!co_await flush()) co_return false;
          if (!co_await handshake()) co_return false;
        } else if (auto* verify = std::get_if<smtp::VerifyCredentials>(&action)) {
          if (!co_await flush()) co_return false;
          co_await verify_credentials(*verify);
        } else if (auto* lookup = std::get_if<smtp::LookupRecipient>(&action)) {
          if (!co_await flush()) co_return false;
          co_await lookup_recipient(*lookup);
        } else if (auto* rate = std::get_if<smtp::CheckRate>(&action)) {
          if (!co_await flush()) co_return false;
          co_await check_rate(*rate);
        } else if (auto* commit = std::get_if<smtp::CommitMessage>(&action)) {
          if (!co_await flush()) co_return false;
          co_await commit_message(*commit);
        }
      }
    }
    co_return co_await flush();
  }

  asio::awaitable<bool> flush() {
    if (out_.empty()) co_return true;
    std::error_code ec;
    if (timed_out_) {
      ec = asio::error::timed_out;
    } else if (tls_) {
      co_await tls_->write_all(out_, ec);
    } else {
      co_await asio::async_write(socket_, asio::buffer(out_),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec && timed_out_) ec = asio::error::timed_out;
    out_.clear();
    if (ec) {
      close_reason_ = "write failed: " + ec.message();
      co_return false;
    }
    co_return true;
  }

  asio::awaitable<std::size_t> read_some(std::array<char, kReadChunk>& buf, std::error_code& ec) {
    std::size_t n = 0;
    if (timed_out_) {
      ec = asio::error::timed_out;
    } else if (tls_) {
      n = co_await tls_->read_some(buf.data(), buf.size(), ec);
    } else {
      n = co_await socket_.async_read_some(asio::buffer(buf),
                                           asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec && timed_out_) ec = asio::error::timed_out;
    co_return n;
  }

  asio::awaitable<bool> handshake() {
    auto ctx = shared_.tls();
    if (!ctx) {
      obs::error("tls", "session={} client={} error=\"no TLS certificate loaded\"", id_, client_);
      session_.tls_failed();
      close_reason_ = "tls unavailable";
      co_return false;
    }
    tls_context_ = ctx;  // keep it alive for the session even across reloads
    tls_.emplace(socket_, ctx->native_handle());
    std::error_code ec;
    const Clock::time_point idle_deadline = deadline_;
    set_deadline(std::min(idle_deadline, Clock::now() + kHandshakeTimeout));
    if (!tls_->ok()) {
      ec = std::make_error_code(std::errc::not_enough_memory);
    } else {
      co_await tls_->handshake(ec);
    }
    if (ec && timed_out_) ec = asio::error::timed_out;
    if (ec) {
      std::string hint;
      const std::string msg = ec.message();
      if (msg.find("http request") != std::string::npos ||
          msg.find("wrong version number") != std::string::npos) {
        hint =
            " hint=\"the client spoke plaintext to a TLS port; it should use implicit TLS here "
            "or the STARTTLS port\"";
      }
      obs::warning("tls", "session={} client={} result=failed error=\"{}\"{}", id_, client_,
                   obs::sanitize(msg), hint);
      metrics::tls_handshake(listener_.address, false);
      tls_.reset();  // nothing more can be said on a broken TLS stream
      session_.tls_failed();
      close_reason_ = "tls handshake failed";
      co_return false;
    }
    metrics::tls_handshake(listener_.address, true);
    progress_.touch(Clock::now());
    set_deadline(progress_.deadline());
    // The session logs the success with the negotiated version and cipher.
    session_.tls_established(describe_tls(tls_->native_handle()));
    co_return true;
  }

  // One request to the shared counters (state::Store), answered on this
  // session's executor. Without a store nothing is counted.
  asio::awaitable<limits::Outcome> count(limits::Request& request) {
    state::Store* store = shared_.store;
    if (!store) co_return limits::Outcome{};
    auto ex = co_await asio::this_coro::executor;
    co_return co_await await_callback<limits::Outcome>(
        ex, [store, &request](auto done) { store->apply(std::move(request), std::move(done)); });
  }

  // AUTH behind the failure throttle (auth/throttle.hpp): the shared
  // counts are read first, so a client over a limit is refused without a
  // password check (on any node, with Redis); a failure is counted before
  // it is answered, so the next attempt, here or on another node, sees it.
  asio::awaitable<void> verify_credentials(smtp::VerifyCredentials& request) {
    auto ex = co_await asio::this_coro::executor;
    AuthService::Attempt attempt;
    std::error_code ec;
    attempt.client_ip = ip_text(socket_.remote_endpoint(ec));
    attempt.local_ip = ip_text(socket_.local_endpoint(ec));
    attempt.mechanism = request.mechanism;
    attempt.secured = tls_.has_value();
    const std::string ip = attempt.client_ip;
    // The name the password lookup uses: "Dave@LOCAL.test" is dave@local.test.
    const std::string user = auth::normalize_address(request.user);
    const auth::AuthThrottle throttle(throttle_policy());
    auto check = throttle.check_request(ip, user);
    const auto verdict = throttle.judge(co_await count(check));
    AuthService::Result result;
    if (verdict.refused) {
      OPENSSL_cleanse(request.password.data(), request.password.size());
      result.outcome = smtp::AuthOutcome::throttled;
      obs::warning("auth_throttled",
                   "session={} client={} user=\"{}\" by={} action=\"answered 454\"", id_, client_,
                   obs::sanitize(user), verdict.why);
    } else {
      AuthService& auth = shared_.auth;
      result =
          co_await await_callback<AuthService::Result>(ex, [&auth, &attempt, &request](auto done) {
            auth.verify(std::move(attempt), std::move(request.user), std::move(request.password),
                        std::move(done));
          });
      if (result.outcome == smtp::AuthOutcome::invalid) {
        auto failure = throttle.failure_request(ip, user);
        co_await count(failure);
        result.delay = std::max(result.delay, verdict.delay);
      } else if (result.outcome == smtp::AuthOutcome::ok) {
        for (auto& r : throttle.success_requests(ip, user)) {
          if (shared_.store) shared_.store->apply(std::move(r), [](limits::Outcome) {});
        }
      }
    }
    if (result.delay.count() > 0) {
      // Slow down a client that keeps guessing (SPEC §1.3).
      timer_.expires_after(result.delay);
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (result.outcome == smtp::AuthOutcome::throttled) metrics::rate_limit_hit("auth_failures");
    if (result.outcome != smtp::AuthOutcome::temporary_failure) {
      metrics::auth_result(result.outcome == smtp::AuthOutcome::ok);
    }
    session_.credentials_result(result.outcome, result.user);
  }

  auth::ThrottlePolicy throttle_policy() const {
    auth::ThrottlePolicy p;
    p.per_ip = policy_.rates.auth_failures_per_ip;
    p.per_user = policy_.rates.auth_failures_per_user;
    return p;
  }

  // MAIL or a new RCPT of an authenticated user, against the user's limits
  // (SPEC §1.10), counted on the shared state.
  asio::awaitable<void> check_rate(const smtp::CheckRate& request) {
    const auto kind = request.kind == smtp::RateKind::messages ? limits::UserLimit::messages
                                                               : limits::UserLimit::recipients;
    const auto rates = policy_.rates.for_user(request.user).of(kind);
    smtp::RateDecision decision;
    if (!rates.empty()) {
      auto counters = limits::user_request(kind, request.user, rates);
      const auto verdict = limits::judge(rates, co_await count(counters));
      if (!verdict.allowed) {
        decision.allowed = false;
        decision.limit = verdict.limit.text();
        decision.retry_after = verdict.retry_after;
        metrics::rate_limit_hit(limits::to_string(kind));
      }
    }
    session_.rate_result(decision);
  }

  // RCPT for a local domain whose mailboxes live in Dovecot (SPEC §1.12).
  asio::awaitable<void> lookup_recipient(const smtp::LookupRecipient& request) {
    auto client = shared_.dovecot();
    if (!client) {
      // A Directory that says "ask" without a client to ask is a wiring
      // bug; 451 is the answer that cannot lose mail.
      session_.recipient_result(smtp::RecipientLookup::temporary_failure);
      co_return;
    }
    auto ex = co_await asio::this_coro::executor;
    const std::string address = request.address;
    auto answer = co_await await_callback<dovecot::LookupAnswer>(
        ex, [&client, &address](auto done) { client->lookup_user(address, std::move(done)); });
    switch (answer.verdict) {
      case dovecot::UserVerdict::exists:
        session_.recipient_result(smtp::RecipientLookup::exists);
        break;
      case dovecot::UserVerdict::not_found:
        session_.recipient_result(smtp::RecipientLookup::not_found);
        break;
      case dovecot::UserVerdict::pending:
      case dovecot::UserVerdict::temporary:
        obs::warning("dovecot",
                     "what=userdb session={} to=<{}> result=unavailable error=\"{}\" "
                     "action=\"answered 451\"",
                     id_, obs::sanitize(address), obs::sanitize(answer.reason));
        session_.recipient_result(smtp::RecipientLookup::temporary_failure);
        break;
    }
  }

  // SPEC §1.8: SPF, DKIM and DMARC of mail from the world, reported in an
  // Authentication-Results field on top (above our Received:), forged
  // copies of that field removed. False when the message was refused
  // (dmarc_policy = "enforce"): the session has been told.
  asio::awaitable<bool> inbound_checks(smtp::CommitMessage& commit) {
    const config::InboundConfig& settings = policy_.inbound;
    const std::string_view content = std::string_view(commit.data).substr(commit.content_offset);
    std::string field;
    if (settings.verifies()) {
      const auto started = Clock::now();
      inbound::Input input;
      input.checks = {settings.spf, settings.dkim, settings.dmarc};
      input.authserv_id = policy_.hostname;
      input.client_ip = client_;
      input.helo = commit.envelope.helo;
      input.mail_from = commit.envelope.mail_from;
      input.message = content;
      input.now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
      unsigned char draw[2] = {};
      RAND_bytes(draw, sizeof draw);
      input.sample = ((draw[0] << 8) | draw[1]) % 100;  // DMARC pct= (RFC 7489 §6.6.4)
      input.to_a_label = shared_.inbound->to_a_label();
      inbound::Outcome outcome =
          co_await verify_message(*shared_.inbound, input, settings.enforce());
      const auto ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
      obs::event("inbound", "session={} client={} from=<{}> {} action={} duration_ms={}", id_,
                 client_, obs::sanitize(commit.envelope.mail_from), outcome.log,
                 inbound::action_name(outcome.action), ms);
      switch (outcome.action) {
        case inbound::Action::reject:
        case inbound::Action::defer:
          session_.message_refused(outcome.reply, "dmarc");
          co_return false;
        case inbound::Action::junk:
          commit.envelope.junk = true;
          break;
        case inbound::Action::accept:
          break;
      }
      field = std::move(outcome.field);
    }
    // RFC 8601 §5: a field that claims our authserv-id and came with the
    // message is a forgery; it goes, in place (one pass over the message).
    const auto forged = mailauth::forged_auth_results(content, policy_.hostname);
    if (!forged.empty()) {
      std::string& d = commit.data;
      std::size_t write = commit.content_offset + forged.front().begin;
      for (std::size_t i = 0; i < forged.size(); ++i) {
        const std::size_t from = commit.content_offset + forged[i].end;
        const std::size_t to =
            i + 1 < forged.size() ? commit.content_offset + forged[i + 1].begin : d.size();
        std::copy(d.begin() + static_cast<std::ptrdiff_t>(from),
                  d.begin() + static_cast<std::ptrdiff_t>(to),
                  d.begin() + static_cast<std::ptrdiff_t>(write));
        write += to - from;
      }
      d.resize(write);
      obs::warning("inbound", "session={} client={} forged_auth_results={} action=\"removed\"", id_,
                   client_, forged.size());
    }
    commit.data.insert(0, field);
    co_return true;
  }

  asio::awaitable<void> commit_message(smtp::CommitMessage& commit) {
    auto ex = co_await asio::this_coro::executor;
    const std::string from = commit.envelope.mail_from;
    const std::size_t nrcpt = commit.envelope.recipients.size();
    if (commit.verify && shared_.inbound) {
      if (!co_await inbound_checks(commit)) co_return;
    }
    std::string signed_for;
    if (commit.sign && shared_.dkim && shared_.dkim->active()) {
      DkimService& dkim = *shared_.dkim;
      auto sig =
          co_await await_callback<mailauth::OutgoingSignature>(ex, [&dkim, &commit](auto done) {
            dkim.sign(commit.data, commit.envelope.mail_from, std::move(done));
          });
      using Kind = mailauth::OutgoingSignature::Kind;
      if (sig.kind == Kind::refused) {
        session_.message_rejected(sig.reason);
        co_return;
      }
      if (sig.kind == Kind::failed) {
        obs::error("dkim", "session={} domain={} error=\"{}\" action=\"answered 452\"", id_,
                   sig.domain, sig.reason);
        session_.message_failed(sig.reason);
        co_return;
      }
      if (sig.kind == Kind::signed_) {
        // On top, above our Received: one move of the message, no copy.
        commit.data.insert(0, sig.header_fields);
        signed_for = fmt::format(" dkim={}/{}", sig.domain, sig.selectors);
      }
    }
    const std::size_t stored_size = commit.data.size();
    const bool junk = commit.envelope.junk;
    spool::Spool& spool = shared_.spool;
    auto result = co_await await_callback<spool::SubmitResult>(ex, [&spool, &commit](auto done) {
      spool.submit(std::move(commit.envelope), std::move(commit.data), std::move(done),
                   std::move(commit.queue_id));
    });
    if (result.error) {
      obs::error("spool",
                 "session={} client={} result=failed error=\"{}\" action=\"answered 452; "
                 "check disk space and permissions of the spool directory\"",
                 id_, client_, result.error.message());
      session_.message_failed(result.error.message());
      co_return;
    }
    obs::event("queued", "id={} session={} client={} from=<{}> nrcpt={} size={}{}{}",
               result.queue_id, id_, client_, obs::sanitize(from), nrcpt, stored_size, signed_for,
               junk ? " folder=Junk" : "");
    metrics::message_accepted(listener_.address);
    progress_.message_queued(Clock::now());
    set_deadline(progress_.deadline());
    session_.message_committed(result.queue_id);
  }

  asio::awaitable<void> shutdown() {
    std::error_code ec;
    if (tls_ && !timed_out_) {
      // A bounded close_notify; a peer that vanished must not hold us.
      set_deadline(Clock::now() + kCloseNotifyTimeout);
      co_await tls_->shutdown(ec);
    }
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  tcp::socket& socket_;
  const config::ListenerConfig& listener_;
  SharedState& shared_;
  const SessionPolicy& policy_;  // as the session started (a reload changes nothing here)
  smtp::ServerSession& session_;
  std::string id_;
  std::string client_;        // the client's address, on every line of the session
  asio::steady_timer timer_;  // the pause after a failed AUTH
  asio::steady_timer watchdog_;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool timed_out_ = false;  // the watchdog cancelled the socket's operations
  std::shared_ptr<asio::ssl::context> tls_context_;
  std::optional<TlsSocket> tls_;
  std::string out_;
  std::string close_reason_ = "closed";
  bool refused_ = false;
  ProgressDeadlines progress_;
};

}  // namespace

asio::awaitable<void> serve_connection(tcp::socket socket, const config::ListenerConfig& listener,
                                       SharedState& shared) {
  std::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;  // the peer left before we looked
  socket.set_option(tcp::no_delay(true), ec);
  const std::string ip = ip_text(remote);
  const std::string id = new_session_id();
  const auto started = std::chrono::steady_clock::now();

  smtp::SessionSettings settings;
  // This session's view of the configuration, kept to its end.
  const auto policy = shared.policy();
  settings.hostname = policy->hostname;
  settings.listener = listener.address;
  settings.role = listener.role;
  settings.tls = listener.tls;
  settings.tls_available = shared.tls() != nullptr;
  settings.insecure_auth = listener.insecure;
  settings.limits = policy->limits;
  settings.session_id = id;
  settings.client_ip = ip;
  settings.client_port = remote.port();
  settings.client_in_relay_networks = in_networks(policy->relay_networks, ip);
  settings.now = std::chrono::system_clock::now();
  settings.allocate_queue_id = [&spool = shared.spool] { return spool.allocate_id(); };
  settings.user_rate_limits = !policy->rates.no_user_limits();

  const auto admission = shared.limiter.acquire(ip);
  switch (admission) {
    case SessionLimiter::Admission::admitted:
      break;
    case SessionLimiter::Admission::too_many_total:
      settings.refuse_with = "Too many connections, try again later";
      break;
    case SessionLimiter::Admission::too_many_from_ip:
      settings.refuse_with = "Too many connections from your address, try again later";
      break;
    case SessionLimiter::Admission::too_many_from_network:
      settings.refuse_with = "Too many connections from your network, try again later";
      break;
  }
  if (admission == SessionLimiter::Admission::admitted) {
    metrics::session_opened(listener.address, to_string(listener.role));
  } else {
    metrics::session_refused(admission == SessionLimiter::Admission::too_many_total ? "max_sessions"
                             : admission == SessionLimiter::Admission::too_many_from_ip
                                 ? "max_sessions_per_ip"
                                 : "max_sessions_per_network");
  }
  obs::event("connect", "session={} client={}:{} listener={} role={} tls={}{}", id, ip,
             remote.port(), listener.address, to_string(listener.role), to_string(listener.tls),
             admission == SessionLimiter::Admission::admitted ? "" : " refused=limit");
  // DNS blocklists (SPEC §1.8): before the banner, so that a listed client
  // has nothing of it accepted; bounded by kDnsblTimeout.
  if (admission == SessionLimiter::Admission::admitted && listener.role == Role::relay &&
      !settings.client_in_relay_networks && !policy->inbound.dnsbl.empty() && shared.inbound) {
    settings.client_refusal = co_await check_dnsbl(*shared.inbound, ip, policy->inbound.dnsbl, id);
  }

  auto directory = shared.directory();
  std::string reason;
  {
    smtp::ServerSession session(std::move(settings), *directory);
    Driver driver(socket, listener, shared, *policy, session, id, ip, policy->limits.idle_timeout);
    if (admission != SessionLimiter::Admission::admitted) driver.mark_refused();
    co_await (driver.run() || driver.watch());
    reason = std::string(driver.close_reason());
  }
  if (admission == SessionLimiter::Admission::admitted) {
    shared.limiter.release(ip);
    metrics::session_closed(listener.address);
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  obs::event("disconnect", "session={} client={} reason=\"{}\" duration_ms={}", id, ip,
             obs::sanitize(reason), ms);
}

}  // namespace postern::net
