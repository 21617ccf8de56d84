#include "outbound/smtp_courier.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "addresses/book_loader.hpp"
#include "addresses/outbound_sender.hpp"
#include "config/host_port.hpp"
#include "dns/idn.hpp"
#include "net/async_bridge.hpp"
#include "net/tls_socket.hpp"
#include "obs/log.hpp"
#include "outbound/blocking_stream.hpp"

namespace postern::outbound {
namespace {

using delivery::FailureKind;
using delivery::Outcome;
using delivery::RecipientResult;
using smtp::client::ClientAction;
using smtp::client::ClientSession;
using smtp::client::ClientSettings;
using smtp::client::Close;
using smtp::client::Failed;
using smtp::client::MessageDone;
using smtp::client::Ready;
using smtp::client::SendBytes;
using smtp::client::Stage;
using smtp::client::StartTls;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

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
  // A session waiting on a slow peer keeps no idle record buffers.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
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
                                      const std::string& where = "",
                                      FailureKind kind = FailureKind::other) {
  return std::vector<RecipientResult>(n, RecipientResult{outcome, reply, where, kind});
}

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

const char* trust_word(const TlsDetails& d) {
  return d.trusted ? "Trusted" : d.peer_certificate ? "Untrusted" : "Anonymous";
}

}  // namespace

struct SmtpCourier::Impl {
  enum class IoStatus { ok, timeout, closed, error };

  // One outbound connection and the session that speaks on it. Lives on the
  // loop: created, used and destroyed there only.
  struct Conn : std::enable_shared_from_this<Conn> {
    explicit Conn(Impl& owner) : impl(owner), socket(owner.io), timer(owner.io) {
      impl.live.insert(this);
    }
    ~Conn() {
      close();
      impl.live.erase(this);
    }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

    void close() {
      tls.reset();  // before the descriptor goes (SSL_free leaves it open)
      std::error_code ignored;
      timer.cancel();
      socket.close(ignored);
      if (open) --impl.open_count;
      open = false;
    }

    Impl& impl;
    asio::ip::tcp::socket socket;
    std::unique_ptr<net::TlsSocket> tls;
    asio::steady_timer timer;
    std::unique_ptr<ClientSession> session;
    std::string key;          // what may reuse it: destination, address, port, TLS policy
    std::string where;        // "mx.example.org[192.0.2.1]:25", for logs and results
    std::string verify_host;  // the name the certificate must carry
    SSL_CTX* tls_context = nullptr;
    bool require_trusted = false;  // an untrusted certificate ends the session
    bool open = false;
    bool timed_out = false;  // the armed deadline passed (not a cancel)
    SteadyClock::time_point idle_since{};
    std::array<char, 8192> buffer{};
  };

  struct Target {
    std::string host;  // MX host or smarthost name, for SNI/verification and logs
    std::string ip;
    std::uint16_t port = 25;
    TlsPolicy tls = TlsPolicy::opportunistic;
    bool implicit_tls = false;
    bool smarthost = false;
  };
  struct Attempt {
    enum class Kind { done, connect_failed, session_failed } kind = Kind::session_failed;
    std::vector<RecipientReply> results;
    std::string error;
    std::string where;
    bool tls_failure = false;  // the handshake or STARTTLS failed
  };
  struct Event {
    enum class Kind { ready, done, failed } kind = Kind::failed;
    std::vector<RecipientReply> results;
    Failed failure;
  };
  struct Job {
    spool::QueuedMessage message;
    std::shared_ptr<const std::string> data;
    std::vector<std::size_t> recipients;
    Completion done;
  };

  Impl(const config::Config& config, std::shared_ptr<dns::Resolver> r, CourierTuning t)
      : hostname(config.hostname),
        delivery(config.delivery),
        // Set in the file, or (in tests, which fill Config in directly) not
        // the default.
        command_timeout_set(config.lines.contains("delivery.command_timeout") ||
                            config.delivery.command_timeout !=
                                config::DeliveryConfig{}.command_timeout),
        resolver(std::move(r)),
        tuning(t),
        dns_pool(std::max<std::size_t>(1, t.dns_threads)),
        reaper(io) {
    std::vector<std::string> srs_secrets;
    if (!config.addresses.srs_secret_file.empty()) {
      std::vector<addresses::BookProblem> problems;
      srs_secrets = addresses::read_srs_secrets(config.addresses.srs_secret_file, problems);
      for (const auto& p : problems) {
        if (p.error) throw std::runtime_error(p.where + ": " + p.message + " (" + p.fix + ")");
      }
    }
    senders = addresses::OutboundSenderRules::from_config(config, std::move(srs_secrets));
    if (!delivery.smarthost.empty()) {
      std::string why;
      const auto hp = config::parse_host_port(delivery.smarthost, why);
      if (!hp)
        throw std::runtime_error("[delivery] smarthost \"" + delivery.smarthost + "\": " + why);
      smarthost_host = lowercase(hp->host);
      smarthost_port = hp->port;
      if (!delivery.smarthost_user.empty()) {
        std::string password = delivery.smarthost_password;
        if (!delivery.smarthost_password_file.empty()) {
          std::ifstream in(delivery.smarthost_password_file);
          if (!in || !std::getline(in, password)) {
            throw std::runtime_error("cannot read [delivery] smarthost_password_file " +
                                     delivery.smarthost_password_file.string());
          }
          if (!password.empty() && password.back() == '\r') password.pop_back();
        }
        smarthost_credentials = Credentials{delivery.smarthost_user, password};
      }
      smarthost_tls = make_client_context(delivery.smarthost_ca_file);
    }
    mx_tls = make_client_context({});
  }

  ~Impl() {
    if (mx_tls) SSL_CTX_free(mx_tls);
    if (smarthost_tls) SSL_CTX_free(smarthost_tls);
  }

  void start() {
    loop = std::thread([this] { io.run(); });
    asio::post(io, [this] { schedule_reap(); });
  }

  // Ends the loop: idle sessions get a QUIT, sessions in progress are cut,
  // the DNS pool and the loop thread are joined.
  void shutdown() {
    asio::post(io, [this] {
      stopping = true;
      reaper.cancel();
      for (auto& [key, c] : idle) close_politely(*c);
      idle.clear();
      cancel_all();
    });
    cancelled = true;
    asio::post(io, [this] { cancel_all(); });
    dns_pool.join();
    keep_alive.reset();
    loop.join();
  }

  // ---- cancellation (loop thread) ------------------------------------------

  void cancel_all() {
    for (Conn* c : live) {
      std::error_code ignored;
      c->socket.cancel(ignored);
    }
    auto hooks_now = std::move(hooks);
    hooks.clear();
    for (auto& [id, hook] : hooks_now) hook();
  }

  // Runs `work` (a blocking lookup) on the DNS pool and resumes the awaiting
  // coroutine with its answer, or with `on_cancel` as soon as cancel() is
  // called. Not a coroutine itself (net/async_bridge.hpp on GCC 12).
  template <typename T, typename Work>
  asio::awaitable<T> blocking_call(std::uint64_t id, Work work, T on_cancel) {
    auto once = std::make_shared<std::atomic<bool>>(false);
    return net::await_callback<T>(
        io.get_executor(), [this, id, once, work = std::move(work),
                            on_cancel = std::move(on_cancel)](std::function<void(T)> complete) {
          if (cancelled) {
            once->store(true);
            complete(on_cancel);
            return;
          }
          hooks[id] = [once, complete, on_cancel] {
            if (!once->exchange(true)) complete(on_cancel);
          };
          asio::post(dns_pool, [once, complete, work] {
            T value = work();
            if (!once->exchange(true)) complete(std::move(value));
          });
        });
  }

  // The awaitables of the two lookups, built outside any coroutine: GCC 12
  // destroys a lambda temporary inside a co_await expression twice.
  asio::awaitable<dns::MxResult> mx_call(std::uint64_t id, const std::string& domain) {
    dns::MxResult stopped;
    stopped.error = "delivery stopped";
    auto r = resolver;
    return blocking_call<dns::MxResult>(
        id, [r, domain] { return r->lookup_mx(domain); }, std::move(stopped));
  }

  asio::awaitable<dns::AddressResult> addresses_call(std::uint64_t id, const std::string& host) {
    dns::AddressResult stopped;
    stopped.error = "delivery stopped";
    auto r = resolver;
    return blocking_call<dns::AddressResult>(
        id, [r, host] { return r->lookup_addresses(host); }, std::move(stopped));
  }

  asio::awaitable<dns::MxResult> lookup_mx(const std::string& domain) {
    const std::uint64_t id = next_hook++;
    dns::MxResult result = co_await mx_call(id, domain);
    hooks.erase(id);
    co_return result;
  }

  asio::awaitable<dns::AddressResult> lookup_addresses(const std::string& host) {
    const std::uint64_t id = next_hook++;
    dns::AddressResult result = co_await addresses_call(id, host);
    hooks.erase(id);
    co_return result;
  }

  // ---- idle connections (loop thread) ---------------------------------------

  std::shared_ptr<Conn> take_idle(const std::string& key) {
    const auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    std::shared_ptr<Conn> c = std::move(it->second);
    idle.erase(it);
    return c;
  }

  void put_idle(std::shared_ptr<Conn> c) {
    if (stopping || cancelled) {
      close_politely(*c);
      return;
    }
    // Never more idle sessions than deliveries may be in flight at once.
    const std::size_t cap = std::max<std::size_t>(1, delivery.max_connections);
    while (idle.size() >= cap) {
      auto oldest = idle.begin();
      for (auto it = idle.begin(); it != idle.end(); ++it) {
        if (it->second->idle_since < oldest->second->idle_since) oldest = it;
      }
      close_politely(*oldest->second);
      idle.erase(oldest);
    }
    c->idle_since = SteadyClock::now();
    idle.emplace(c->key, std::move(c));
  }

  // QUIT without waiting for anything: one non-blocking write, then close.
  static void close_politely(Conn& c) {
    if (c.open && c.session && c.session->ready()) {
      c.session->quit();
      for (auto& action : c.session->take_actions()) {
        const auto* send = std::get_if<SendBytes>(&action);
        if (!send) continue;
        if (c.tls) {
          std::size_t n = 0;
          SSL_write_ex(c.tls->native_handle(), send->bytes.data(), send->bytes.size(), &n);
          ERR_clear_error();
        } else {
          std::error_code ignored;
          c.socket.non_blocking(true, ignored);
          c.socket.write_some(asio::buffer(send->bytes), ignored);
        }
      }
    }
    c.close();
  }

  void schedule_reap() {
    if (stopping) return;
    reaper.expires_after(milliseconds(250));
    reaper.async_wait([this](std::error_code ec) {
      if (ec || stopping) return;
      const auto now = SteadyClock::now();
      for (auto it = idle.begin(); it != idle.end();) {
        if (now - it->second->idle_since >= tuning.idle_keep) {
          close_politely(*it->second);
          it = idle.erase(it);
        } else {
          ++it;
        }
      }
      schedule_reap();
    });
  }

  // ---- moving bytes, each step under a deadline (loop thread) ----------------

  void arm(Conn& c, milliseconds timeout) {
    c.timed_out = false;
    c.timer.expires_after(timeout);
    c.timer.async_wait([weak = c.weak_from_this()](std::error_code ec) {
      if (ec) return;
      if (auto conn = weak.lock()) {
        conn->timed_out = true;
        std::error_code ignored;
        conn->socket.cancel(ignored);
      }
    });
  }

  static IoStatus status_of(Conn& c, std::error_code ec, std::string& error) {
    c.timer.cancel();
    if (!ec) return IoStatus::ok;
    if (c.timed_out) {
      error = "timed out";
      return IoStatus::timeout;
    }
    if (ec == asio::error::eof || ec == asio::error::connection_reset) {
      error = "peer closed";
      return IoStatus::closed;
    }
    error = ec == asio::error::operation_aborted ? "delivery stopped" : ec.message();
    return IoStatus::error;
  }

  asio::awaitable<bool> connect(Conn& c, const Target& t, std::string& error) {
    if (cancelled) {
      error = "delivery stopped";
      co_return false;
    }
    std::error_code ec;
    const asio::ip::address address = asio::ip::make_address(t.ip, ec);
    if (ec) {
      error = "not an IP address: " + t.ip;
      co_return false;
    }
    arm(c, delivery.connect_timeout);
    co_await c.socket.async_connect(asio::ip::tcp::endpoint(address, t.port),
                                    asio::redirect_error(asio::use_awaitable, ec));
    c.timer.cancel();
    if (ec) {
      error = c.timed_out ? "connect timed out after " +
                                std::to_string(delivery.connect_timeout.count() / 1000) + "s"
              : ec == asio::error::operation_aborted ? "delivery stopped"
                                                     : ec.message();
      std::error_code ignored;
      c.socket.close(ignored);
      co_return false;
    }
    c.open = true;
    ++open_count;
    c.socket.set_option(asio::ip::tcp::no_delay(true), ec);
    co_return true;
  }

  asio::awaitable<IoStatus> write_all(Conn& c, std::string_view bytes, milliseconds timeout,
                                      std::string& error) {
    if (cancelled || !c.open) {
      error = "delivery stopped";
      co_return IoStatus::error;
    }
    std::error_code ec;
    arm(c, timeout);
    if (c.tls) {
      co_await c.tls->write_all(bytes, ec);
    } else {
      co_await asio::async_write(c.socket, asio::buffer(bytes.data(), bytes.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return status_of(c, ec, error);
  }

  asio::awaitable<IoStatus> read_some(Conn& c, std::string& out, milliseconds timeout,
                                      std::string& error) {
    if (cancelled || !c.open) {
      error = "delivery stopped";
      co_return IoStatus::error;
    }
    std::error_code ec;
    std::size_t n = 0;
    arm(c, timeout);
    if (c.tls) {
      n = co_await c.tls->read_some(c.buffer.data(), c.buffer.size(), ec);
    } else {
      n = co_await c.socket.async_read_some(asio::buffer(c.buffer),
                                            asio::redirect_error(asio::use_awaitable, ec));
    }
    const IoStatus st = status_of(c, ec, error);
    if (st == IoStatus::ok) out.append(c.buffer.data(), n);
    co_return st;
  }

  asio::awaitable<bool> start_tls(Conn& c, milliseconds timeout, std::string& error) {
    if (cancelled || !c.open || c.tls) {
      error = cancelled ? "delivery stopped" : "connection not usable for TLS";
      co_return false;
    }
    ERR_clear_error();
    c.tls = std::make_unique<net::TlsSocket>(c.socket, c.tls_context);
    if (!c.tls->ok()) {
      error = openssl_error_text();
      co_return false;
    }
    SSL_set_connect_state(c.tls->native_handle());
    set_client_verify_host(c.tls->native_handle(), c.verify_host);
    std::error_code ec;
    arm(c, timeout);
    co_await c.tls->handshake(ec);
    if (status_of(c, ec, error) == IoStatus::ok) co_return true;
    if (ec == asio::error::eof) error = "connection closed during handshake";
    if (c.timed_out) error = "handshake timed out";
    co_return false;
  }

  // ---- one session ------------------------------------------------------------

  asio::awaitable<Event> drive(Conn& c, const std::string& queue_id) {
    const milliseconds command_timeout = step_timeout(std::chrono::minutes(5));
    std::optional<Event> event;
    // Each awaited reply gets its step's time in all (RFC 5321 §4.5.3.2),
    // counted from when we began to wait for it: bytes that trickle in do
    // not extend it.
    std::size_t replies = c.session->replies_received();
    auto deadline = SteadyClock::now() + step_timeout(c.session->reply_timeout());
    for (;;) {
      std::vector<ClientAction> actions = c.session->take_actions();
      for (auto& action : actions) {
        if (auto* send = std::get_if<SendBytes>(&action)) {
          std::string error;
          const IoStatus st = co_await write_all(
              c, send->bytes, step_timeout(ClientSession::kDataBlockTimeout), error);
          deadline = SteadyClock::now() + step_timeout(c.session->reply_timeout());
          if (st == IoStatus::timeout) {
            c.session->timeout();
          } else if (st != IoStatus::ok) {
            c.session->peer_closed();
          }
        } else if (std::holds_alternative<StartTls>(action)) {
          std::string error;
          if (!co_await start_tls(c, command_timeout, error)) {
            obs::warning("tls_outbound", "id={} host={} error=\"{}\"", queue_id, c.where,
                         obs::sanitize(error));
            c.session->tls_failed(error);
            continue;
          }
          const TlsDetails d = tls_details_of(c.tls->native_handle());
          obs::event("tls_outbound", "id={} host={} trust={} version={} cipher={}", queue_id,
                     c.verify_host, trust_word(d), d.version, d.cipher);
          if (c.require_trusted && !d.trusted) {
            c.session->tls_failed("certificate not trusted: " + d.verify_error);
            continue;
          }
          c.session->tls_established();
        } else if (std::holds_alternative<Ready>(action)) {
          event = Event{Event::Kind::ready, {}, {}};
        } else if (auto* done = std::get_if<MessageDone>(&action)) {
          event = Event{Event::Kind::done, std::move(done->results), {}};
        } else if (auto* failed = std::get_if<Failed>(&action)) {
          if (!event) event = Event{Event::Kind::failed, {}, *failed};
        } else if (std::holds_alternative<Close>(action)) {
          c.close();
        }
      }
      if (!actions.empty()) continue;  // calls made while acting may have queued more
      if (event) co_return *event;
      if (!c.session->wants_input()) {
        Failed f;
        f.reason = "connection closed";
        co_return Event{Event::Kind::failed, {}, f};
      }
      if (c.session->replies_received() != replies) {
        replies = c.session->replies_received();
        deadline = SteadyClock::now() + step_timeout(c.session->reply_timeout());
      }
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0) {
        c.session->timeout();
        continue;
      }
      std::string bytes;
      std::string error;
      const IoStatus st = co_await read_some(c, bytes, left, error);
      if (st == IoStatus::ok) {
        c.session->feed(bytes);
      } else if (st == IoStatus::timeout) {
        c.session->timeout();
      } else {
        c.session->peer_closed();
      }
    }
  }

  // ---- one attempt at one host --------------------------------------------------

  asio::awaitable<Attempt> attempt(const Target& target, const spool::QueuedMessage& message,
                                   const OutgoingMessage& outgoing) {
    // A pooled session to the same place first; a stale one (closed by the
    // peer while idle) shows itself at RSET and is dropped.
    const std::string key = key_of(target);
    while (std::shared_ptr<Conn> c = take_idle(key)) {
      Attempt a = co_await send_on(c, message, outgoing, true);
      if (a.kind == Attempt::Kind::done) co_return a;
    }
    Attempt a = co_await attempt_fresh(target, message, outgoing);
    if (a.tls_failure && !target.smarthost && target.tls == TlsPolicy::opportunistic &&
        delivery.tls_fallback_plaintext && !cancelled) {
      obs::warning("tls_outbound", "id={} host={} note=\"retrying in plaintext after: {}\"",
                   message.id, a.where, obs::sanitize(a.error));
      Target plain = target;
      plain.tls = TlsPolicy::none;
      a = co_await attempt_fresh(plain, message, outgoing);
    }
    co_return a;
  }

  asio::awaitable<Attempt> attempt_fresh(const Target& target, const spool::QueuedMessage& message,
                                         const OutgoingMessage& outgoing) {
    Attempt a;
    a.where = target.host + "[" + target.ip + "]:" + std::to_string(target.port);
    auto c = std::make_shared<Conn>(*this);
    std::string error;
    if (!co_await connect(*c, target, error)) {
      obs::warning("connect", "id={} host={} error=\"{}\"", message.id, a.where,
                   obs::sanitize(error));
      a.kind = Attempt::Kind::connect_failed;
      a.error = "connect: " + error;
      co_return a;
    }
    c->key = key_of(target);
    c->where = a.where;
    c->tls_context = target.smarthost ? smarthost_tls : mx_tls;
    c->verify_host = target.host;
    c->require_trusted = target.smarthost;
    ClientSettings settings;
    settings.helo_name = hostname;
    settings.tls = target.tls;
    if (target.smarthost) settings.credentials = smarthost_credentials;
    if (target.implicit_tls) {
      if (!co_await start_tls(*c, step_timeout(std::chrono::minutes(5)), error)) {
        obs::warning("tls_outbound", "id={} host={} error=\"{}\"", message.id, a.where,
                     obs::sanitize(error));
        c->close();
        a.kind = Attempt::Kind::session_failed;
        a.error = "TLS handshake failed: " + error;
        co_return a;
      }
      const TlsDetails d = tls_details_of(c->tls->native_handle());
      obs::event("tls_outbound", "id={} host={} trust={} version={} cipher={}", message.id,
                 target.host, trust_word(d), d.version, d.cipher);
      if (!d.trusted) {
        c->close();
        a.kind = Attempt::Kind::session_failed;
        a.error = "smarthost certificate not trusted: " + d.verify_error;
        co_return a;
      }
      settings.tls_active = true;
    }
    c->session = std::make_unique<ClientSession>(settings);
    const Event e = co_await drive(*c, message.id);
    if (e.kind != Event::Kind::ready) {
      c->close();
      a.kind = Attempt::Kind::session_failed;
      a.error = e.failure.reason;
      a.tls_failure = e.failure.stage == Stage::tls_handshake || e.failure.stage == Stage::starttls;
      if (e.failure.stage == Stage::auth && settings.credentials) {
        obs::warning("auth_outbound", "id={} host={} user={} result=failed reason=\"{}\"",
                     message.id, a.where, obs::sanitize(settings.credentials->user),
                     obs::sanitize(a.error));
      } else {
        obs::warning("connect", "id={} host={} error=\"{}\"", message.id, a.where,
                     obs::sanitize(a.error));
      }
      co_return a;
    }
    if (settings.credentials) {
      obs::event("auth_outbound", "id={} host={} user={} result=ok", message.id, a.where,
                 obs::sanitize(settings.credentials->user));
    }
    co_return co_await send_on(c, message, outgoing, false);
  }

  asio::awaitable<Attempt> send_on(const std::shared_ptr<Conn>& c,
                                   const spool::QueuedMessage& message,
                                   const OutgoingMessage& outgoing, bool reused) {
    Attempt a;
    a.where = c->where;
    c->session->send_message(outgoing);
    const Event e = co_await drive(*c, message.id);
    if (e.kind == Event::Kind::done) {
      a.kind = Attempt::Kind::done;
      a.results = e.results;
      if (reused) {
        obs::event("reuse", "id={} host={} messages={}", message.id, c->where,
                   c->session->messages_sent());
      }
    } else {
      a.kind = Attempt::Kind::session_failed;
      a.error = e.failure.reason;
    }
    if (c->open && c->session->ready()) {
      put_idle(c);
    } else {
      c->close();
    }
    co_return a;
  }

  // ---- routes ---------------------------------------------------------------------

  asio::awaitable<std::vector<RecipientResult>> deliver_direct(
      const spool::QueuedMessage& message, std::string_view data, const std::string& domain,
      const std::vector<std::size_t>& rcpts) {
    const std::size_t n = rcpts.size();
    if (domain.empty()) co_return all_with(n, Outcome::permanent, "5.1.3 recipient has no domain");
    // DNS knows internationalised domains only in A-label form (RFC 5890);
    // the SMTP session accepted the UTF-8 form under SMTPUTF8.
    const auto a_label = dns::to_a_label(domain);
    if (!a_label) {
      co_return all_with(
          n, Outcome::permanent,
          "5.1.2 domain " + domain + " is not a valid internationalised domain name");
    }
    const TlsPolicy tls = policy_for(*a_label);
    const dns::MxResult mx = co_await lookup_mx(*a_label);
    switch (mx.status) {
      case dns::Status::ok:
        break;
      case dns::Status::null_mx:
        co_return all_with(n, Outcome::permanent,
                           "5.1.10 domain " + domain + " accepts no mail (null MX, RFC 7505)");
      case dns::Status::nxdomain:
        co_return all_with(n, Outcome::permanent, "5.1.2 domain " + domain + " does not exist");
      case dns::Status::no_data:
        co_return all_with(n, Outcome::permanent,
                           "5.1.2 domain " + domain + " has no MX and no address record");
      case dns::Status::temporary_failure:
        co_return all_with(n, Outcome::transient,
                           "4.4.3 DNS lookup for " + domain + " failed: " + mx.error);
    }
    if (mx.hosts.empty()) {
      co_return all_with(n, Outcome::permanent, "5.1.2 domain " + domain + " has no mail host");
    }
    OutgoingMessage outgoing = outgoing_for(message, data, rcpts);
    outgoing.mail_from = sender_for(message, false);
    std::string last_error = "no MX host could be reached";
    for (const dns::MxHost& host : mx.hosts) {
      if (cancelled) break;
      const dns::AddressResult addrs = co_await lookup_addresses(host.host);
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
        t.port = delivery.remote_port;
        t.tls = tls;
        const Attempt a = co_await attempt(t, message, outgoing);
        if (a.kind == Attempt::Kind::done) co_return to_results(a.results, a.where);
        last_error = a.where + ": " + a.error;
        if (cancelled) break;
      }
    }
    co_return all_with(n, Outcome::transient, "4.4.1 " + last_error, "", FailureKind::unreachable);
  }

  asio::awaitable<std::vector<RecipientResult>> deliver_smarthost(
      const spool::QueuedMessage& message, std::string_view data,
      const std::vector<std::size_t>& rcpts) {
    const std::size_t n = rcpts.size();
    std::vector<std::string> addresses;
    if (config::is_ip_literal(smarthost_host)) {
      addresses.push_back(smarthost_host);
    } else {
      const dns::AddressResult r = co_await lookup_addresses(smarthost_host);
      if (r.status == dns::Status::temporary_failure || r.addresses.empty()) {
        // Even "does not exist" is the operator's to fix: keep the mail.
        co_return all_with(n, Outcome::transient,
                           "4.4.3 cannot resolve smarthost " + smarthost_host +
                               (r.error.empty() ? std::string() : ": " + r.error));
      }
      addresses = r.addresses;
    }
    std::vector<std::uint16_t> ports{smarthost_port};
    for (const std::uint16_t p : delivery.fallback_ports) {
      if (std::find(ports.begin(), ports.end(), p) == ports.end()) ports.push_back(p);
    }
    OutgoingMessage outgoing = outgoing_for(message, data, rcpts);
    outgoing.mail_from = sender_for(message, true);
    // [addresses] smarthost_rewrite_from: the provider may check the header
    // From: too. This copy lives until the attempts below are over.
    const std::optional<std::string> rewritten = senders.rewrite_header_from(data);
    if (rewritten) outgoing.data = *rewritten;
    std::string last_error;
    for (std::size_t pi = 0; pi < ports.size() && !cancelled; ++pi) {
      for (const std::string& ip : addresses) {
        Target t;
        t.host = smarthost_host;
        t.ip = ip;
        t.port = ports[pi];
        t.smarthost = true;
        t.implicit_tls = delivery.smarthost_tls == TlsMode::implicit;
        t.tls = delivery.smarthost_tls == TlsMode::none ? TlsPolicy::none : TlsPolicy::required;
        if (pi > 0) {
          obs::event("smarthost", "id={} host={}[{}]:{} note=\"trying fallback port\"", message.id,
                     t.host, ip, t.port);
        }
        const Attempt a = co_await attempt(t, message, outgoing);
        if (a.kind == Attempt::Kind::done) co_return to_results(a.results, a.where);
        last_error = a.where + ": " + a.error;
        // Fallback ports are for ports that refuse or time out; a server
        // that answered and then failed is not helped by another port.
        if (a.kind == Attempt::Kind::session_failed) {
          co_return all_with(n, Outcome::transient, "4.4.0 smarthost " + last_error);
        }
        if (cancelled) break;
      }
    }
    co_return all_with(n, Outcome::transient, "4.4.1 smarthost unreachable: " + last_error, "",
                       FailureKind::unreachable);
  }

  asio::awaitable<std::vector<RecipientResult>> deliver(const Job& job) {
    const std::vector<std::size_t>& recipients = job.recipients;
    std::vector<RecipientResult> out(recipients.size());
    if (cancelled) {
      co_return all_with(recipients.size(), Outcome::transient,
                         "4.3.2 delivery stopped: shutting down");
    }
    if (!smarthost_host.empty()) {
      const auto results = co_await deliver_smarthost(job.message, *job.data, recipients);
      for (std::size_t k = 0; k < out.size() && k < results.size(); ++k) out[k] = results[k];
      co_return out;
    }
    // One transaction per recipient domain, in the order of first appearance.
    std::vector<std::string> order;
    std::map<std::string, std::vector<std::size_t>> positions;  // into `recipients`
    for (std::size_t k = 0; k < recipients.size(); ++k) {
      const std::string domain = domain_of(job.message.recipients[recipients[k]].recipient.address);
      if (!positions.contains(domain)) order.push_back(domain);
      positions[domain].push_back(k);
    }
    for (const std::string& domain : order) {
      const std::vector<std::size_t>& ks = positions[domain];
      std::vector<std::size_t> indexes;
      for (const std::size_t k : ks) indexes.push_back(recipients[k]);
      const auto results = co_await deliver_direct(job.message, *job.data, domain, indexes);
      for (std::size_t j = 0; j < ks.size() && j < results.size(); ++j) out[ks[j]] = results[j];
    }
    co_return out;
  }

  // Owns the job; completes it exactly once.
  asio::awaitable<void> run_job(Job* raw) {
    std::unique_ptr<Job> job(raw);
    std::vector<RecipientResult> results;
    try {
      results = co_await deliver(*job);
    } catch (const std::exception& e) {
      obs::error("outbound", "id={} error=\"{}\"", job->message.id, obs::sanitize(e.what()));
      results.clear();
    }
    results.resize(job->recipients.size(),
                   RecipientResult{Outcome::transient, "4.3.0 outbound courier error", {}});
    --in_flight;
    Completion done = std::move(job->done);
    job.reset();
    done(std::move(results));
  }

  // ---- policy ---------------------------------------------------------------------

  TlsPolicy policy_for(const std::string& domain) const {
    const auto it = delivery.tls_policy.find(domain);
    return it != delivery.tls_policy.end() ? it->second : delivery.tls;
  }

  milliseconds step_timeout(milliseconds rfc_default) const {
    // An explicit [delivery] command_timeout bounds every step (tests and
    // impatient operators); otherwise each step has its RFC 5321 default.
    return command_timeout_set ? std::min(rfc_default, milliseconds(delivery.command_timeout))
                               : rfc_default;
  }

  std::string key_of(const Target& t) const {
    return (t.smarthost ? "smarthost " : "mx ") + t.host + " " + t.ip + " " +
           std::to_string(t.port) + " " + std::to_string(static_cast<int>(t.tls)) +
           (t.implicit_tls ? " implicit" : "");
  }

  // MAIL FROM for this attempt: SRS for forwarded mail, the smarthost map
  // on the way to the smarthost (SPEC §1.9, docs/addresses.md).
  std::string sender_for(const spool::QueuedMessage& message, bool smarthost) const {
    const std::string sender =
        senders.envelope_sender(message.envelope, smarthost, std::chrono::system_clock::now());
    if (sender != message.envelope.mail_from) {
      obs::event("rewrite", "id={} from=<{}> mail_from=<{}> reason={}", message.id,
                 obs::sanitize(message.envelope.mail_from), obs::sanitize(sender),
                 senders.forwarded(message.envelope) ? "srs" : "smarthost_senders");
    }
    return sender;
  }

  // Settings (read-only after construction).
  addresses::OutboundSenderRules senders;
  std::string hostname;
  config::DeliveryConfig delivery;
  bool command_timeout_set = false;
  std::shared_ptr<dns::Resolver> resolver;
  std::optional<Credentials> smarthost_credentials;
  std::string smarthost_host;
  std::uint16_t smarthost_port = 0;
  SSL_CTX* mx_tls = nullptr;
  SSL_CTX* smarthost_tls = nullptr;
  CourierTuning tuning;

  // Shared with other threads.
  std::atomic<bool> cancelled{false};
  std::atomic<std::size_t> open_count{0};
  std::atomic<std::size_t> in_flight{0};

  // The loop and what only it touches. `io` is declared before everything
  // that holds its handlers.
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> keep_alive{io.get_executor()};
  asio::thread_pool dns_pool;
  std::thread loop;
  asio::steady_timer reaper;
  bool stopping = false;
  std::set<Conn*> live;
  std::multimap<std::string, std::shared_ptr<Conn>> idle;
  std::map<std::uint64_t, std::function<void()>> hooks;
  std::uint64_t next_hook = 0;
};

SmtpCourier::SmtpCourier(const config::Config& config, std::shared_ptr<dns::Resolver> resolver,
                         CourierTuning tuning)
    : impl_(std::make_shared<Impl>(config, std::move(resolver), tuning)) {
  // A peer that vanishes mid-write must not kill the process (SSL_write
  // writes with plain write(2)).
  std::signal(SIGPIPE, SIG_IGN);
  impl_->start();
}

SmtpCourier::~SmtpCourier() {
  impl_->shutdown();
}

void SmtpCourier::cancel() {
  Impl& s = *impl_;
  s.cancelled = true;
  asio::post(s.io, [&s] { s.cancel_all(); });
}

void SmtpCourier::deliver_async(const spool::QueuedMessage& message,
                                std::shared_ptr<const std::string> data,
                                std::vector<std::size_t> recipients, Completion done) {
  Impl& s = *impl_;
  ++s.in_flight;
  auto* job = new Impl::Job{message, std::move(data), std::move(recipients), std::move(done)};
  // The coroutine frame is made on the loop, like every other one there.
  asio::post(s.io, [&s, job] { asio::co_spawn(s.io, s.run_job(job), asio::detached); });
}

std::vector<delivery::RecipientResult> SmtpCourier::deliver(
    const spool::QueuedMessage& message, std::string_view data,
    const std::vector<std::size_t>& recipients) {
  return deliver_and_wait(message, data, recipients);
}

std::size_t SmtpCourier::open_connections() const {
  return impl_->open_count;
}

std::size_t SmtpCourier::in_flight() const {
  return impl_->in_flight;
}

}  // namespace postern::outbound
