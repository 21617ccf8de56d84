#include "outbound/lmtp_courier.hpp"

#include <algorithm>
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <csignal>
#include <deque>
#include <optional>
#include <set>
#include <thread>

#include "obs/log.hpp"
#include "smtp/client_session.hpp"

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
using smtp::client::OutgoingMessage;
using smtp::client::Ready;
using smtp::client::RecipientReply;
using smtp::client::SendBytes;
using smtp::client::StartTls;
using smtp::client::TlsPolicy;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;
// A UNIX or a TCP socket: LMTP speaks the same over both.
using Socket = asio::generic::stream_protocol::socket;

std::vector<RecipientResult> all_with(std::size_t n, Outcome o, const std::string& reply,
                                      const std::string& where,
                                      FailureKind kind = FailureKind::other) {
  return std::vector<RecipientResult>(n, RecipientResult{o, reply, where, kind});
}

}  // namespace

struct LmtpCourier::Impl {
  enum class IoStatus { ok, timeout, closed, error };

  // One LMTP connection and the session that speaks on it. Lives on the
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
      std::error_code ignored;
      timer.cancel();
      socket.close(ignored);
      if (open) {
        --impl.open_count;
        impl.slot_freed();
      }
      open = false;
    }

    Impl& impl;
    Socket socket;
    asio::steady_timer timer;
    std::unique_ptr<ClientSession> session;
    bool open = false;       // holds one of max_connections slots
    bool timed_out = false;  // the armed deadline passed (not a cancel)
    SteadyClock::time_point idle_since{};
    std::array<char, 8192> buffer{};
  };

  struct Event {
    enum class Kind { ready, done, failed } kind = Kind::failed;
    std::vector<RecipientReply> results;
    std::string reason;
  };

  struct Job {
    spool::QueuedMessage message;
    std::shared_ptr<const std::string> data;
    std::vector<std::size_t> recipients;
    Completion done;
  };

  explicit Impl(LmtpOptions o) : options(std::move(o)), where(options.target.text()), reaper(io) {}

  void start() {
    loop = std::thread([this] { io.run(); });
    asio::post(io, [this] { schedule_reap(); });
  }

  // Idle sessions get a QUIT, sessions in progress are cut, the loop ends
  // once every delivery has answered.
  void shutdown() {
    cancelled = true;
    asio::post(io, [this] {
      stopping = true;
      reaper.cancel();
      for (auto& c : idle) close_politely(*c);
      idle.clear();
      cancel_all();
    });
    keep_alive.reset();
    loop.join();
  }

  // ---- cancellation and connection slots (loop thread) ---------------------

  void cancel_all() {
    for (Conn* c : live) {
      std::error_code ignored;
      c->socket.cancel(ignored);
    }
    for (auto& w : slot_waiters) w->cancel();
    slot_waiters.clear();
  }

  // A slot came free (a connection closed or went idle): the first delivery
  // waiting for one looks again.
  void slot_freed() {
    if (slot_waiters.empty()) return;
    slot_waiters.front()->cancel();
    slot_waiters.pop_front();
  }

  // ---- idle connections (loop thread) ---------------------------------------

  std::shared_ptr<Conn> take_idle() {
    if (idle.empty()) return nullptr;
    std::shared_ptr<Conn> c = std::move(idle.back());  // the most recent is the least stale
    idle.pop_back();
    return c;
  }

  void put_idle(std::shared_ptr<Conn> c) {
    if (stopping || cancelled) {
      close_politely(*c);
      return;
    }
    c->idle_since = SteadyClock::now();
    idle.push_back(std::move(c));
    slot_freed();
  }

  // QUIT without waiting for anything: one non-blocking write, then close.
  static void close_politely(Conn& c) {
    if (c.open && c.session && c.session->ready()) {
      c.session->quit();
      for (auto& action : c.session->take_actions()) {
        if (const auto* send = std::get_if<SendBytes>(&action)) {
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
        if (now - (*it)->idle_since >= options.idle_keep) {
          close_politely(**it);
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

  static IoStatus status_of(Conn& c, std::error_code ec) {
    c.timer.cancel();
    if (!ec) return IoStatus::ok;
    if (c.timed_out) return IoStatus::timeout;
    if (ec == asio::error::eof || ec == asio::error::connection_reset) return IoStatus::closed;
    return IoStatus::error;
  }

  // Waits until this delivery may open a connection (a slot, or an idle
  // session to take over) or connect_timeout has passed.
  asio::awaitable<bool> wait_for_slot(SteadyClock::time_point deadline) {
    while (open_count >= std::max<std::size_t>(1, options.max_connections) && idle.empty()) {
      if (cancelled || SteadyClock::now() >= deadline) co_return false;
      auto waiter = std::make_shared<asio::steady_timer>(io);
      waiter->expires_at(deadline);
      slot_waiters.push_back(waiter);
      std::error_code ec;
      co_await waiter->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      std::erase(slot_waiters, waiter);
    }
    co_return true;
  }

  asio::awaitable<bool> connect(Conn& c, std::string& error) {
    if (cancelled) {
      error = "delivery stopped";
      co_return false;
    }
    std::error_code ec;
    arm(c, options.connect_timeout);
    if (options.target.kind == config::LocalTarget::Kind::lmtp_unix) {
      const asio::local::stream_protocol::endpoint local(options.target.socket.string());
      co_await c.socket.async_connect(asio::generic::stream_protocol::endpoint(local),
                                      asio::redirect_error(asio::use_awaitable, ec));
    } else {
      // A name here is resolved by asio's own resolver thread, never on
      // the loop; usually it is an address anyway.
      asio::ip::tcp::resolver resolver(io);
      const auto endpoints =
          co_await resolver.async_resolve(options.target.host, std::to_string(options.target.port),
                                          asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) {
        ec = asio::error::host_not_found;
        for (const auto& e : endpoints) {
          if (c.timed_out || cancelled) break;
          std::error_code ignored;
          c.socket.close(ignored);
          ec.clear();
          co_await c.socket.async_connect(asio::generic::stream_protocol::endpoint(e.endpoint()),
                                          asio::redirect_error(asio::use_awaitable, ec));
          if (!ec) break;
        }
      }
    }
    c.timer.cancel();
    if (ec) {
      error = c.timed_out ? "connect timed out after " +
                                std::to_string(options.connect_timeout.count()) + "ms"
              : cancelled ? "delivery stopped"
                          : ec.message();
      std::error_code ignored;
      c.socket.close(ignored);
      co_return false;
    }
    c.open = true;
    ++open_count;
    co_return true;
  }

  asio::awaitable<IoStatus> write_all(Conn& c, std::string_view bytes, milliseconds timeout) {
    if (cancelled || !c.socket.is_open()) co_return IoStatus::error;
    std::error_code ec;
    arm(c, timeout);
    co_await asio::async_write(c.socket, asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return status_of(c, ec);
  }

  asio::awaitable<IoStatus> read_some(Conn& c, std::string& out, milliseconds timeout) {
    if (cancelled || !c.socket.is_open()) co_return IoStatus::error;
    std::error_code ec;
    arm(c, timeout);
    const std::size_t n = co_await c.socket.async_read_some(
        asio::buffer(c.buffer), asio::redirect_error(asio::use_awaitable, ec));
    const IoStatus st = status_of(c, ec);
    if (st == IoStatus::ok) out.append(c.buffer.data(), n);
    co_return st;
  }

  // The step's RFC 5321 §4.5.3.2 time, never more than command_timeout.
  milliseconds step(milliseconds rfc_default) const {
    return std::min(rfc_default, options.command_timeout);
  }

  // Carries out the session's actions until it is ready, has answered a
  // message, or failed. Each awaited reply gets its step's time in all,
  // counted from when we began to wait for it: a server that trickles
  // bytes is cut off like a silent one. No TLS: the settings never ask.
  asio::awaitable<Event> drive(Conn& c) {
    std::optional<Event> event;
    std::size_t replies = c.session->replies_received();
    auto deadline = SteadyClock::now() + step(c.session->reply_timeout());
    for (;;) {
      std::vector<ClientAction> actions = c.session->take_actions();
      for (auto& action : actions) {
        if (auto* send = std::get_if<SendBytes>(&action)) {
          const IoStatus st =
              co_await write_all(c, send->bytes, step(ClientSession::kDataBlockTimeout));
          deadline = SteadyClock::now() + step(c.session->reply_timeout());
          if (st == IoStatus::timeout) {
            c.session->timeout();
          } else if (st != IoStatus::ok) {
            c.session->peer_closed();
          }
        } else if (std::holds_alternative<StartTls>(action)) {
          c.session->tls_failed("TLS is not used for LMTP");
        } else if (std::holds_alternative<Ready>(action)) {
          event = Event{Event::Kind::ready, {}, {}};
        } else if (auto* done = std::get_if<MessageDone>(&action)) {
          event = Event{Event::Kind::done, std::move(done->results), {}};
        } else if (auto* failed = std::get_if<Failed>(&action)) {
          if (!event) event = Event{Event::Kind::failed, {}, failed->reason};
        } else if (std::holds_alternative<Close>(action)) {
          c.close();
        }
      }
      if (!actions.empty()) continue;  // calls made while acting may have queued more
      if (event) co_return *event;
      if (!c.session->wants_input()) co_return Event{Event::Kind::failed, {}, "connection closed"};
      if (c.session->replies_received() != replies) {
        replies = c.session->replies_received();
        deadline = SteadyClock::now() + step(c.session->reply_timeout());
      }
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0) {
        c.session->timeout();
        continue;
      }
      std::string bytes;
      const IoStatus st = co_await read_some(c, bytes, left);
      if (st == IoStatus::ok) {
        c.session->feed(bytes);
      } else if (st == IoStatus::timeout) {
        c.session->timeout();
      } else {
        c.session->peer_closed();
      }
    }
  }

  // ---- one delivery ------------------------------------------------------------

  // A new session up to LHLO's answer, or nullptr with `error` (and `busy`
  // when our own connection limit, not the server, was the reason).
  asio::awaitable<std::shared_ptr<Conn>> open_session(const std::string& queue_id,
                                                      std::string& error, bool& busy) {
    if (!co_await wait_for_slot(SteadyClock::now() + options.connect_timeout)) {
      error = cancelled ? "delivery stopped" : "too many LMTP connections";
      busy = !cancelled;
      co_return nullptr;
    }
    if (std::shared_ptr<Conn> reused = take_idle()) co_return reused;
    auto c = std::make_shared<Conn>(*this);
    if (!co_await connect(*c, error)) {
      obs::warning("connect", "id={} host={} error=\"{}\"", queue_id, where, obs::sanitize(error));
      co_return nullptr;
    }
    ClientSettings settings;
    settings.helo_name = options.hostname;
    settings.tls = TlsPolicy::none;  // a local socket or a trusted neighbour
    settings.lmtp = true;
    c->session = std::make_unique<ClientSession>(settings);
    const Event e = co_await drive(*c);
    if (e.kind != Event::Kind::ready) {
      c->close();
      error = e.reason;
      obs::warning("connect", "id={} host={} error=\"{}\"", queue_id, where, obs::sanitize(error));
      co_return nullptr;
    }
    co_return c;
  }

  // One attempt on `c`; false when the session broke before an answer
  // (then out holds one transient result with the reason).
  // (Parameters by reference: GCC 12 mishandles non-trivial coroutine
  // parameters, net/async_bridge.hpp.)
  asio::awaitable<bool> send_on(const std::shared_ptr<Conn>& c, const std::string& queue_id,
                                const OutgoingMessage& outgoing,
                                std::vector<RecipientResult>& out) {
    c->session->send_message(outgoing);
    const Event e = co_await drive(*c);
    const bool answered = e.kind == Event::Kind::done;
    out.clear();
    if (answered) {
      for (const auto& r : e.results) out.push_back(RecipientResult{r.outcome, r.reply, where});
    } else {
      out.push_back(RecipientResult{Outcome::transient, e.reason, where});
      obs::warning("lmtp", "id={} host={} error=\"{}\"", queue_id, where, obs::sanitize(e.reason));
    }
    if (c->open && c->session->ready()) {
      put_idle(c);
    } else {
      c->close();
    }
    co_return answered;
  }

  asio::awaitable<std::vector<RecipientResult>> deliver(Job& job) {
    const std::size_t n = job.recipients.size();
    if (n == 0) co_return std::vector<RecipientResult>{};
    if (cancelled) {
      co_return all_with(n, Outcome::transient, "4.3.2 delivery stopped: shutting down", where);
    }
    OutgoingMessage outgoing;
    outgoing.mail_from = job.message.envelope.mail_from;
    for (const std::size_t i : job.recipients) {
      outgoing.recipients.push_back(job.message.recipients[i].recipient);
    }
    outgoing.data = *job.data;
    outgoing.eight_bit = job.message.envelope.eight_bit;
    outgoing.smtputf8 = job.message.envelope.smtputf8;
    std::vector<RecipientResult> out;
    // An idle session first; one the server closed while idle shows itself
    // at RSET and is dropped without an answer, so the next is tried.
    while (std::shared_ptr<Conn> c = take_idle()) {
      if (co_await send_on(c, job.message.id, outgoing, out)) co_return out;
    }
    std::string error;
    bool busy = false;
    std::shared_ptr<Conn> c = co_await open_session(job.message.id, error, busy);
    if (busy) {
      // Our own connection limit, not the server: RFC 3463 X.4.5 (mail
      // system congestion), which the queue runner does not count as the
      // destination being down.
      co_return all_with(n, Outcome::transient, "4.4.5 " + error, where);
    }
    if (!c) {
      // Dovecot down or not there yet (refused, timed out, no greeting):
      // an unreachable failure, which makes the queue runner mark the local
      // destination dead and back off, like an MX that does not answer.
      // Everything stays queued and is retried.
      co_return all_with(n, Outcome::transient, "4.4.1 LMTP server unreachable: " + error, where,
                         FailureKind::unreachable);
    }
    if (co_await send_on(c, job.message.id, outgoing, out)) co_return out;
    co_return all_with(n, Outcome::transient, "4.4.2 LMTP session failed: " + out.front().reply,
                       where, FailureKind::unreachable);
  }

  asio::awaitable<void> run_job(Job* raw) {
    std::unique_ptr<Job> job(raw);
    std::vector<RecipientResult> results;
    try {
      results = co_await deliver(*job);
    } catch (const std::exception& e) {
      obs::error("lmtp", "id={} error=\"{}\"", job->message.id, obs::sanitize(e.what()));
      results.clear();
    }
    results.resize(job->recipients.size(),
                   RecipientResult{Outcome::transient, "4.3.0 LMTP courier error", where});
    Completion done = std::move(job->done);
    job.reset();
    done(std::move(results));
  }

  // Settings (read-only after construction).
  LmtpOptions options;
  std::string where;  // "lmtp:unix:/run/dovecot/lmtp", in logs and results

  // Shared with other threads.
  std::atomic<bool> cancelled{false};
  std::atomic<std::size_t> open_count{0};

  // The loop and what only it touches. `io` is declared before everything
  // that holds its handlers.
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> keep_alive{io.get_executor()};
  std::thread loop;
  asio::steady_timer reaper;
  bool stopping = false;
  // Declared before `idle`: a connection closing as `idle` goes away
  // still reaches both.
  std::set<Conn*> live;
  std::deque<std::shared_ptr<asio::steady_timer>> slot_waiters;
  std::vector<std::shared_ptr<Conn>> idle;
};

LmtpCourier::LmtpCourier(LmtpOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {
  // A server that vanishes mid-write must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  impl_->start();
}

LmtpCourier::~LmtpCourier() {
  impl_->shutdown();
}

void LmtpCourier::cancel() {
  Impl& s = *impl_;
  s.cancelled = true;
  asio::post(s.io, [&s] { s.cancel_all(); });
}

void LmtpCourier::deliver_async(const spool::QueuedMessage& message,
                                std::shared_ptr<const std::string> data,
                                std::vector<std::size_t> recipients, Completion done) {
  Impl& s = *impl_;
  auto* job = new Impl::Job{message, std::move(data), std::move(recipients), std::move(done)};
  // The coroutine frame is made on the loop, like every other one there.
  asio::post(s.io, [&s, job] { asio::co_spawn(s.io, s.run_job(job), asio::detached); });
}

std::vector<RecipientResult> LmtpCourier::deliver(const spool::QueuedMessage& message,
                                                  std::string_view data,
                                                  const std::vector<std::size_t>& recipients) {
  return deliver_and_wait(message, data, recipients);
}

std::size_t LmtpCourier::open_connections() const {
  return impl_->open_count;
}

}  // namespace postern::outbound
