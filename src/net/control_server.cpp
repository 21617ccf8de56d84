#include "net/control_server.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "control/control_client.hpp"
#include "control/control_protocol.hpp"
#include "control/local_envelope.hpp"
#include "control/request_decoder.hpp"
#include "delivery/destination.hpp"
#include "net/async_bridge.hpp"
#include "obs/log.hpp"
#include "policy/address.hpp"

namespace postern::net {
namespace {

namespace fs = std::filesystem;
using asio::local::stream_protocol;
using namespace asio::experimental::awaitable_operators;
using control::ErrorKind;
using control::Response;

// Local clients are few (an operator, an application calling sendmail);
// more than this at once is a runaway script, answered "try again".
constexpr std::size_t kMaxClients = 32;
// A client that stops sending for this long is dropped. sendmail reads its
// whole message before connecting, so a healthy client never waits.
constexpr std::chrono::seconds kIdleTimeout{60};
constexpr std::chrono::seconds kWriteTimeout{30};
constexpr std::size_t kReadChunk = 16384;

// Runs operator changes, which may wait for a delivery attempt in progress
// (QueueRunner::hold and friends), away from the event loop.
class Worker {
 public:
  Worker() : thread_([this] { loop(); }) {}
  ~Worker() { stop(); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // False once stopped: the job will never run.
  bool post(std::function<void()> job) {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    jobs_.push_back(std::move(job));
    cv_.notify_one();
    return true;
  }

  // Finishes the job in progress; jobs not started are dropped.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      jobs_.clear();
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

// The uid of the process at the other end, as the kernel saw it connect
// (it cannot be forged by the client).
long peer_uid(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
  return static_cast<long>(cred.uid);
}

std::string_view past_tense(control::Verb verb) {
  switch (verb) {
    case control::Verb::hold:
      return "held";
    case control::Verb::release:
      return "released";
    case control::Verb::remove:
      return "deleted";
    default:
      return "done";
  }
}

// Wrapped: Asio would treat a bare error_code completion as an exception.
struct ChangeOutcome {
  std::error_code ec;
};

}  // namespace

struct ControlServer::Impl : std::enable_shared_from_this<ControlServer::Impl> {
  Impl(asio::io_context& l, fs::path p, SharedState& s, delivery::QueueRunner& r)
      : loop(l), path(std::move(p)), shared(s), runner(r), acceptor(l) {
    std::random_device rd;
    salt = rd();
  }

  asio::io_context& loop;
  fs::path path;
  SharedState& shared;
  delivery::QueueRunner& runner;
  stream_protocol::acceptor acceptor;
  Worker worker;
  std::atomic<std::size_t> clients{0};
  std::atomic<std::uint64_t> submissions{0};
  std::uint32_t salt = 0;
  bool open = false;
  std::function<Response()> reload_handler;

  void start() {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(path, ec))) {
      const auto answer = control::call(path, "PING\n", std::chrono::seconds(2));
      if (answer.status == control::CallResult::Status::answered) {
        throw std::runtime_error("another postern server answers on " + path.string() +
                                 "; two servers cannot share one data_dir");
      }
      fs::remove(path, ec);
      if (ec)
        throw std::runtime_error("cannot remove stale " + path.string() + ": " + ec.message());
    }
    // Bound under a temporary name, given its mode, then renamed into place:
    // the socket is never reachable with the umask's permissions.
    const fs::path temp = path.parent_path() / fmt::format(".control.sock.{}", ::getpid());
    fs::remove(temp, ec);
    int dir_fd = -1;
    const std::string reachable = control::reachable_socket_path(temp, dir_fd);
    if (reachable.empty()) throw std::runtime_error("cannot reach " + temp.string());
    acceptor.open(stream_protocol(), ec);
    if (!ec) acceptor.bind(stream_protocol::endpoint(reachable), ec);
    if (dir_fd >= 0) ::close(dir_fd);
    if (!ec && ::chmod(temp.c_str(), 0660) != 0) ec.assign(errno, std::generic_category());
    if (!ec) fs::rename(temp, path, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      std::error_code ignored;
      fs::remove(temp, ignored);
      throw std::runtime_error("cannot create control socket " + path.string() + ": " +
                               ec.message());
    }
    open = true;
    obs::event("listen", "control={}", path.string());
    asio::co_spawn(loop, accept_loop(), asio::detached);
  }

  void close() {
    if (!open) return;
    open = false;
    std::error_code ec;
    acceptor.close(ec);
    fs::remove(path, ec);
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    for (;;) {
      std::error_code ec;
      stream_protocol::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        obs::error("accept", "control={} error=\"{}\"", path.string(), ec.message());
        asio::steady_timer pause(loop, std::chrono::milliseconds(100));
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      asio::co_spawn(loop, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(stream_protocol::socket socket) {
    auto self = shared_from_this();
    const std::size_t active = clients.fetch_add(1) + 1;
    asio::steady_timer timer(loop);
    const long uid = peer_uid(socket.native_handle());
    std::optional<Response> response;
    if (active > kMaxClients) {
      response = control::error_response(ErrorKind::tempfail,
                                         "too many control connections at once; try again");
    } else {
      response = co_await handle(socket, timer, uid);
    }
    if (response) {
      const std::string line = control::format_response(*response);
      std::error_code ec;
      timer.expires_after(kWriteTimeout);
      co_await (asio::async_write(socket, asio::buffer(line),
                                  asio::redirect_error(asio::use_awaitable, ec)) ||
                timer.async_wait(asio::use_awaitable));
    }
    std::error_code ignored;
    socket.shutdown(stream_protocol::socket::shutdown_both, ignored);
    socket.close(ignored);
    clients.fetch_sub(1);
  }

  // Reads one request and carries it out; nullopt when the client went
  // away before finishing it (nobody to answer).
  asio::awaitable<std::optional<Response>> handle(stream_protocol::socket& socket,
                                                  asio::steady_timer& timer, long uid) {
    control::RequestDecoder decoder(shared.policy()->limits.max_message_size);
    std::string buf(kReadChunk, '\0');
    while (decoder.state() == control::RequestDecoder::State::need_more) {
      std::error_code ec;
      timer.expires_after(kIdleTimeout);
      auto result =
          co_await (socket.async_read_some(asio::buffer(buf),
                                           asio::redirect_error(asio::use_awaitable, ec)) ||
                    timer.async_wait(asio::use_awaitable));
      if (result.index() == 1) {
        co_return control::error_response(ErrorKind::tempfail,
                                          "timed out waiting for the rest of the request");
      }
      const std::size_t n = std::get<0>(result);
      if (ec && n == 0) co_return std::nullopt;
      decoder.feed(std::string_view(buf.data(), n));
    }
    if (decoder.state() == control::RequestDecoder::State::error) {
      obs::warning("control", "uid={} result=refused error=\"{}\"", uid,
                   obs::sanitize(decoder.error()));
      co_return control::error_response(decoder.error_kind(), decoder.error());
    }
    const control::Request& request = decoder.request();
    switch (request.verb) {
      case control::Verb::ping:
        co_return control::ok_response("pong");
      case control::Verb::flush: {
        const std::size_t n = runner.wake_all();
        obs::event("control", "action=flush uid={} messages={}", uid, n);
        co_return control::ok_response(fmt::format("{} message(s) due now", n));
      }
      case control::Verb::reload:
        co_return co_await reload(uid);
      case control::Verb::status:
        co_return control::ok_response(delivery::format_destinations(runner.destinations()));
      case control::Verb::remove:
      case control::Verb::hold:
      case control::Verb::release:
        co_return co_await change(request, uid);
      case control::Verb::submit:
        co_return co_await submit(decoder, uid);
    }
    co_return control::error_response(ErrorKind::software, "unhandled request");
  }

  // Runs an operator change on the worker thread and reports its outcome
  // through `done` (at once when the worker has stopped).
  void post_change(control::Verb verb, const std::string& id,
                   std::function<void(ChangeOutcome)> done) {
    std::weak_ptr<Impl> weak = weak_from_this();
    const bool queued = worker.post([weak, verb, id, done] {
      auto me = weak.lock();
      if (!me) return done(ChangeOutcome{std::make_error_code(std::errc::operation_canceled)});
      switch (verb) {
        case control::Verb::hold:
          return done(ChangeOutcome{me->runner.hold(id)});
        case control::Verb::release:
          return done(ChangeOutcome{me->runner.release(id)});
        default:
          return done(ChangeOutcome{me->runner.remove(id)});
      }
    });
    if (!queued) done(ChangeOutcome{std::make_error_code(std::errc::operation_canceled)});
  }

  // RELOAD: the reload reads files and builds TLS contexts, so it runs on
  // the worker thread, never on the event loop.
  asio::awaitable<Response> reload(long uid) {
    obs::event("control", "action=reload uid={}", uid);
    if (!reload_handler) {
      co_return control::error_response(ErrorKind::software, "this server cannot reload");
    }
    auto ex = co_await asio::this_coro::executor;
    std::weak_ptr<Impl> weak = weak_from_this();
    co_return co_await await_callback<Response>(ex, [this, weak](auto done) {
      const bool queued = worker.post([weak, done]() mutable {
        auto me = weak.lock();
        if (!me)
          return done(control::error_response(ErrorKind::tempfail, "the server is stopping"));
        done(me->reload_handler());
      });
      if (!queued) done(control::error_response(ErrorKind::tempfail, "the server is stopping"));
    });
  }

  // Parameters and the lambda below hold only references and scalars: GCC
  // 12 destroys non-trivial coroutine parameters and captured temporaries
  // twice (see net/async_bridge.hpp).
  asio::awaitable<Response> change(const control::Request& request, long uid) {
    const control::Verb verb = request.verb;
    const std::string& id = request.queue_id;
    auto ex = co_await asio::this_coro::executor;
    const ChangeOutcome outcome = co_await await_callback<ChangeOutcome>(
        ex, [this, verb, &id](auto done) { post_change(verb, id, std::move(done)); });
    const std::error_code ec = outcome.ec;
    const std::string_view what = past_tense(verb);
    if (!ec) {
      obs::event("control", "action={} id={} uid={}", what, id, uid);
      co_return control::ok_response(fmt::format("{} {}", id, what));
    }
    if (ec == std::errc::no_such_file_or_directory) {
      co_return control::error_response(ErrorKind::notfound,
                                        fmt::format("no message {} in the queue", id));
    }
    if (ec == std::errc::operation_canceled) {
      co_return control::error_response(ErrorKind::tempfail, "the server is stopping");
    }
    obs::error("control", "action={} id={} uid={} error=\"{}\"", what, id, uid, ec.message());
    co_return control::error_response(ErrorKind::tempfail,
                                      fmt::format("cannot change {}: {}", id, ec.message()));
  }

  asio::awaitable<Response> submit(control::RequestDecoder& decoder, long uid) {
    control::LocalOrigin origin;
    origin.uid = uid < 0 ? 0 : static_cast<unsigned>(uid);
    origin.hostname = shared.policy()->hostname;
    origin.when = std::chrono::system_clock::now();
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(origin.when.time_since_epoch())
            .count();
    origin.unique = fmt::format("{}.{}.{:08x}.sendmail", micros, ++submissions, salt);
    origin.queue_id = shared.spool.allocate_id();
    const control::LocalIdentity identity = local_identity(uid);
    auto prepared = control::prepare_local_submission(
        decoder.envelope(), decoder.message(), origin, *shared.directory(),
        shared.policy()->limits.max_recipients, identity);
    decoder.message().clear();
    if (auto* refusal = std::get_if<Response>(&prepared)) {
      obs::warning("control", "action=submit uid={} result=refused error=\"{}\"", uid,
                   obs::sanitize(refusal->text));
      co_return *refusal;
    }
    control::LocalMessage& local = std::get<control::LocalMessage>(prepared);
    Envelope envelope = std::move(local.envelope);
    std::string data = std::move(local.data);
    const std::string from = envelope.mail_from;
    const std::size_t nrcpt = envelope.recipients.size();

    auto ex = co_await asio::this_coro::executor;
    // `postern sendmail` mail leaves on behalf of a local user: signed like
    // submission (SPEC §1.7).
    std::string signed_for;
    if (shared.dkim && shared.dkim->active()) {
      DkimService& dkim = *shared.dkim;
      auto sig = co_await await_callback<mailauth::OutgoingSignature>(
          ex, [&dkim, &data, &envelope](auto done) {
            dkim.sign(data, envelope.mail_from, std::move(done));
          });
      using Kind = mailauth::OutgoingSignature::Kind;
      if (sig.kind == Kind::refused) {
        obs::warning("control", "action=submit uid={} result=refused error=\"{}\"", uid,
                     obs::sanitize(sig.reason));
        co_return control::error_response(ErrorKind::data, sig.reason);
      }
      if (sig.kind == Kind::failed) {
        obs::error("dkim", "origin=sendmail uid={} domain={} error=\"{}\"", uid, sig.domain,
                   sig.reason);
        co_return control::error_response(ErrorKind::tempfail, "cannot sign: " + sig.reason);
      }
      if (sig.kind == Kind::signed_) {
        data.insert(0, sig.header_fields);
        signed_for = fmt::format(" dkim={}/{}", sig.domain, sig.selectors);
      }
    }
    const std::size_t size = data.size();
    spool::Spool& spool = shared.spool;
    std::string queue_id = "none";
    // sendmail -t with every recipient unknown: only the bounce is stored.
    if (nrcpt > 0) {
      auto result = co_await await_callback<spool::SubmitResult>(
          ex, [&spool, &envelope, &data, &origin](auto done) {
            spool.submit(std::move(envelope), std::move(data), std::move(done),
                         std::move(origin.queue_id));
          });
      if (result.error) {
        obs::error("spool", "origin=sendmail uid={} result=failed error=\"{}\"", uid,
                   result.error.message());
        co_return control::error_response(ErrorKind::tempfail,
                                          "cannot store the message: " + result.error.message());
      }
      queue_id = result.queue_id;
      obs::event("queued", "id={} origin=sendmail uid={} from=<{}> nrcpt={} size={}{}", queue_id,
                 uid, obs::sanitize(from), nrcpt, size, signed_for);
    }
    for (const auto& b : local.bounced) {
      obs::event("bounced",
                 "id={} origin=sendmail uid={} from=<{}> to=<{}> reply=\"5.1.1 User "
                 "unknown\"",
                 queue_id, uid, obs::sanitize(from), obs::sanitize(b));
    }
    if (local.bounce) {
      Envelope& bounce_envelope = local.bounce->envelope;
      std::string& bounce_data = local.bounce->data;
      auto result = co_await await_callback<spool::SubmitResult>(
          ex, [&spool, &bounce_envelope, &bounce_data](auto done) {
            spool.submit(std::move(bounce_envelope), std::move(bounce_data), std::move(done));
          });
      if (result.error && nrcpt == 0) {
        co_return control::error_response(ErrorKind::tempfail,
                                          "cannot store the bounce: " + result.error.message());
      }
      if (result.error) {
        // The message itself is stored: refusing now would make the caller
        // send it twice. The lost report is the lesser harm; say so loudly.
        obs::error("bounce",
                   "id={} origin=sendmail to=<{}> error=\"cannot queue the bounce for "
                   "unknown recipients: {}\"",
                   queue_id, obs::sanitize(from), result.error.message());
      } else {
        obs::event("queued", "id={} origin=sendmail bounce_for={} to=<{}>", result.queue_id,
                   queue_id, obs::sanitize(from));
      }
    }
    co_return control::ok_response(queue_id);
  }

  // SPEC §1.9: the local user behind the control socket's peer uid. root
  // and the server's own user may write any From:; others own what the
  // address book gives their login at the default domain.
  control::LocalIdentity local_identity(long uid) const {
    control::LocalIdentity id;
    const auto u = static_cast<uid_t>(uid < 0 ? 0 : uid);
    id.trusted = u == 0 || u == ::geteuid();
    // getpwuid reads /etc/passwd (or NSS): small and local, and submissions
    // are rare next to SMTP; it runs on the control loop only.
    if (const passwd* pw = ::getpwuid(u); pw != nullptr && pw->pw_name != nullptr) {
      id.login = pw->pw_name;
    } else {
      id.login = "uid" + std::to_string(u);
    }
    const auto policy = shared.policy();
    id.user = policy::ascii_lower(id.login) + "@" + policy->default_domain;
    id.default_sender = id.login + "@" + policy->hostname;
    return id;
  }
};

ControlServer::ControlServer(asio::io_context& loop, std::filesystem::path socket_path,
                             SharedState& shared, delivery::QueueRunner& runner)
    : impl_(std::make_shared<Impl>(loop, std::move(socket_path), shared, runner)) {}

ControlServer::~ControlServer() {
  stop();
}

void ControlServer::set_reload(std::function<control::Response()> handler) {
  impl_->reload_handler = std::move(handler);
}

void ControlServer::start() {
  impl_->start();
}

void ControlServer::close() {
  impl_->close();
}

void ControlServer::stop() {
  impl_->close();
  impl_->worker.stop();
}

}  // namespace postern::net
