#include "state/redis_store.hpp"

#include <hiredis/async.h>
#include <openssl/sha.h>

#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "obs/log.hpp"
#include "state/hiredis_asio.hpp"
#include "state/redis_script.hpp"

namespace postern::state {
namespace {

using Clock = std::chrono::steady_clock;

// Keys of every postern counter start with this, so a Redis shared with
// other applications stays readable (`redis-cli --scan --pattern 'postern:*'`).
constexpr std::string_view kKeyPrefix = "postern:";

std::string sha1_hex(std::string_view text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string_view op_name(limits::Op op) {
  switch (op) {
    case limits::Op::take:
      return "take";
    case limits::Op::add:
      return "add";
    case limits::Op::peek:
      return "peek";
    case limits::Op::clear:
      return "clear";
  }
  return "peek";
}

// EVALSHA/EVAL sha-or-script numkeys key... op amount (limit window bucket)...
std::vector<std::string> script_command(const limits::Request& r, std::string_view verb,
                                        std::string_view body) {
  std::vector<std::string> argv;
  argv.reserve(5 + r.counters.size() * 4);
  argv.emplace_back(verb);
  argv.emplace_back(body);
  argv.push_back(std::to_string(r.counters.size()));
  for (const auto& c : r.counters) argv.push_back(std::string(kKeyPrefix) + c.key);
  argv.emplace_back(op_name(r.op));
  argv.push_back(std::to_string(r.amount));
  for (const auto& c : r.counters) {
    argv.push_back(std::to_string(c.rate.count));
    argv.push_back(std::to_string(c.rate.window.count()));
    argv.push_back(std::to_string(limits::bucket_ms(c.rate)));
  }
  return argv;
}

// The script's answer, or nothing when it is not the expected shape.
std::optional<limits::Outcome> read_outcome(const redisReply* reply, std::size_t counters) {
  if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 + 2 * counters) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < reply->elements; ++i) {
    if (reply->element[i]->type != REDIS_REPLY_INTEGER) return std::nullopt;
  }
  limits::Outcome out;
  out.shared = true;
  out.allowed = reply->element[0]->integer != 0;
  for (std::size_t i = 0; i < counters; ++i) {
    const long long count = reply->element[1 + 2 * i]->integer;
    const long long retry = reply->element[2 + 2 * i]->integer;
    out.counters.push_back({static_cast<std::uint64_t>(std::max(0LL, count)),
                            std::chrono::milliseconds(std::max(0LL, retry))});
  }
  return out;
}

}  // namespace

struct RedisStore::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& l, config::RedisUrl u)
      : loop(l),
        url(std::move(u)),
        script_sha(sha1_hex(kCounterScript)),
        resolver(l),
        retry_timer(l),
        deadline_timer(l) {}

  enum class Phase { idle, resolving, connecting, ready, stopped };

  struct Pending {
    limits::Request request;
    Done done;
    Clock::time_point deadline;
    bool retried_with_eval = false;
  };

  asio::io_context& loop;
  const config::RedisUrl url;
  const std::string script_sha;
  InProcessStore local;
  asio::ip::tcp::resolver resolver;
  asio::steady_timer retry_timer;
  asio::steady_timer deadline_timer;  // the oldest request's (or the connect's) deadline
  redisAsyncContext* context = nullptr;
  Phase phase = Phase::idle;
  Clock::time_point connect_deadline{};
  std::chrono::milliseconds backoff = kRetryInitial;
  std::map<std::uint64_t, Pending> pending;  // by id: the first is the oldest
  std::uint64_t next_id = 1;
  // The outage report: the first failure is logged at once, then at most
  // once per kDownLogInterval with what happened meanwhile.
  bool down = false;
  Clock::time_point last_down_log{};
  std::string last_error;
  std::uint64_t answered_locally = 0;

  // ---- outage accounting --------------------------------------------------

  void report_down(std::string error) {
    last_error = std::move(error);
    const auto now = Clock::now();
    if (down && now - last_down_log < kDownLogInterval) return;
    obs::warning("state",
                 "backend=redis url={} status=unavailable error=\"{}\" answered_locally={} "
                 "action=\"counting in this process until Redis answers; retrying with "
                 "backoff\"",
                 url.redacted(), obs::sanitize(last_error), answered_locally);
    down = true;
    last_down_log = now;
    answered_locally = 0;
  }

  void report_up() {
    backoff = kRetryInitial;
    if (!down && last_down_log != Clock::time_point{}) return;
    obs::event("state", "backend=redis url={} status=connected{}", url.redacted(),
               down ? fmt::format(" answered_locally={}", answered_locally) : "");
    down = false;
    last_down_log = Clock::now();
    answered_locally = 0;
  }

  void answer_locally(limits::Request request, Done& done) {
    ++answered_locally;
    done(local.apply_now(request));
  }

  // ---- requests -----------------------------------------------------------

  void submit(limits::Request request, Done done) {
    if (request.counters.empty()) return done(limits::Outcome{});
    if (phase != Phase::ready || !context) {
      // Connecting or waiting to retry (the backoff timer reconnects).
      return answer_locally(std::move(request), done);
    }
    const std::uint64_t id = next_id++;
    Pending p{std::move(request), std::move(done), Clock::now() + kCommandTimeout};
    if (!send(id, p, "EVALSHA", script_sha)) {
      answer_locally(std::move(p.request), p.done);
      return lose("cannot queue a command");
    }
    pending.emplace(id, std::move(p));
    arm_deadline();
  }

  bool send(std::uint64_t id, const Pending& p, std::string_view verb, std::string_view body) {
    const auto argv = script_command(p.request, verb, body);
    std::vector<const char*> ptrs;
    std::vector<std::size_t> lens;
    for (const auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    return redisAsyncCommandArgv(context, &Impl::on_reply, reinterpret_cast<void*>(id),
                                 static_cast<int>(argv.size()), ptrs.data(),
                                 lens.data()) == REDIS_OK;
  }

  static void on_reply(redisAsyncContext* c, void* r, void* privdata) {
    auto* self = static_cast<Impl*>(c->data);
    if (self) self->reply(reinterpret_cast<std::uintptr_t>(privdata), static_cast<redisReply*>(r));
  }

  void reply(std::uint64_t id, redisReply* r) {
    auto it = pending.find(id);
    if (it == pending.end()) return;  // already answered (timed out)
    Pending p = std::move(it->second);
    pending.erase(it);
    if (r && r->type == REDIS_REPLY_ERROR &&
        std::string_view(r->str, r->len).starts_with("NOSCRIPT") && !p.retried_with_eval &&
        context && phase == Phase::ready) {
      // A Redis that restarted or flushed its scripts: send the body once,
      // which also loads it for the next EVALSHA.
      p.retried_with_eval = true;
      if (send(id, p, "EVAL", kCounterScript)) {
        pending.emplace(id, std::move(p));
        return;
      }
    }
    if (!r) {
      // The connection went away with the request in flight.
      return answer_locally(std::move(p.request), p.done);
    }
    auto outcome = read_outcome(r, p.request.counters.size());
    if (!outcome) {
      report_down(r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len)
                                               : "unexpected reply to the counter script");
      return answer_locally(std::move(p.request), p.done);
    }
    mirror(p.request, *outcome);
    p.done(std::move(*outcome));
  }

  // What Redis counted, this process counts too (see the header).
  void mirror(const limits::Request& r, const limits::Outcome& o) {
    if (r.op == limits::Op::clear) {
      local.apply_now(r);
    } else if (r.op == limits::Op::add || (r.op == limits::Op::take && o.allowed)) {
      limits::Request copy = r;
      copy.op = limits::Op::add;
      local.apply_now(copy);
    }
  }

  // ---- deadlines ----------------------------------------------------------

  void arm_deadline() {
    Clock::time_point next = Clock::time_point::max();
    if (phase == Phase::connecting) next = connect_deadline;
    if (!pending.empty()) next = std::min(next, pending.begin()->second.deadline);
    if (next == Clock::time_point::max()) return;
    if (deadline_timer.expiry() <= next && deadline_timer.expiry() > Clock::now()) return;
    deadline_timer.expires_at(next);
    deadline_timer.async_wait([weak = weak_from_this()](const std::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->check_deadlines();
    });
  }

  void check_deadlines() {
    const auto now = Clock::now();
    if (phase == Phase::connecting && now >= connect_deadline) {
      return lose("no connection within " + std::to_string(kConnectTimeout.count()) + " ms");
    }
    if (!pending.empty() && now >= pending.begin()->second.deadline) {
      // A Redis that does not answer in time is treated as gone: waiting
      // longer would hold sessions, and a fresh connection finds out
      // whether it is back.
      return lose("no answer within " + std::to_string(kCommandTimeout.count()) + " ms");
    }
    arm_deadline();
  }

  // ---- connection ---------------------------------------------------------

  void connect() {
    if (phase != Phase::idle) return;
    phase = Phase::resolving;
    resolver.async_resolve(
        url.host, std::to_string(url.port),
        [weak = weak_from_this()](const std::error_code& ec,
                                  asio::ip::tcp::resolver::results_type results) {
          auto self = weak.lock();
          if (!self || self->phase != Phase::resolving) return;
          if (ec || results.empty()) {
            self->phase = Phase::idle;
            self->report_down("cannot resolve " + self->url.host + ": " + ec.message());
            return self->schedule_retry();
          }
          self->open(results.begin()->endpoint().address().to_string());
        });
  }

  void open(const std::string& ip) {
    // A numeric address: hiredis' non-blocking connect does no lookup.
    redisAsyncContext* c = redisAsyncConnect(ip.c_str(), url.port);
    if (!c || c->err) {
      const std::string why = c ? c->errstr : "out of memory";
      if (c) redisAsyncFree(c);
      phase = Phase::idle;
      report_down("cannot connect: " + why);
      return schedule_retry();
    }
    context = c;
    c->data = this;
    attach_to_asio(c, loop);
    redisAsyncSetConnectCallback(c, &Impl::on_connect);
    redisAsyncSetDisconnectCallback(c, &Impl::on_disconnect);
    phase = Phase::connecting;
    connect_deadline = Clock::now() + kConnectTimeout;
    // Commands queued before the socket is up go out once it is; the last
    // one's answer says the connection is usable.
    if (!url.password.empty()) {
      if (url.user.empty()) {
        redisAsyncCommand(c, &Impl::on_setup, nullptr, "AUTH %b", url.password.data(),
                          url.password.size());
      } else {
        redisAsyncCommand(c, &Impl::on_setup, nullptr, "AUTH %b %b", url.user.data(),
                          url.user.size(), url.password.data(), url.password.size());
      }
    }
    if (url.db != 0) redisAsyncCommand(c, &Impl::on_setup, nullptr, "SELECT %d", url.db);
    redisAsyncCommand(c, &Impl::on_ready, nullptr, "PING");
    arm_deadline();
  }

  static void on_connect(const redisAsyncContext* c, int status) {
    auto* self = static_cast<Impl*>(c->data);
    if (!self || status == REDIS_OK) return;
    // hiredis frees the context after this callback.
    self->context = nullptr;
    self->phase = Phase::idle;
    self->report_down(std::string("cannot connect: ") + (c->errstr ? c->errstr : "refused"));
    self->schedule_retry();
  }

  static void on_disconnect(const redisAsyncContext* c, int /*status*/) {
    auto* self = static_cast<Impl*>(c->data);
    if (!self || self->context != c) return;
    self->context = nullptr;
    if (self->phase == Phase::stopped) return;
    self->phase = Phase::idle;
    self->report_down(std::string("connection lost: ") + (c->errstr ? c->errstr : "closed"));
    self->schedule_retry();
  }

  static void on_setup(redisAsyncContext* c, void* r, void*) {
    auto* self = static_cast<Impl*>(c->data);
    auto* reply = static_cast<redisReply*>(r);
    if (!self || !reply || reply->type != REDIS_REPLY_ERROR) return;
    // A wrong password or database is the operator's to fix; keep trying
    // slowly meanwhile (it may be a Redis still loading).
    self->report_down(
        "Redis refused the set-up (check the password and database in [state] url): " +
        std::string(reply->str, reply->len));
    self->setup_failed = true;
  }

  static void on_ready(redisAsyncContext* c, void* r, void*) {
    auto* self = static_cast<Impl*>(c->data);
    auto* reply = static_cast<redisReply*>(r);
    if (!self || !reply) return;
    if (self->setup_failed || reply->type == REDIS_REPLY_ERROR) {
      self->setup_failed = false;
      if (reply->type == REDIS_REPLY_ERROR) {
        self->report_down("Redis refused PING: " + std::string(reply->str, reply->len));
      }
      // Not from inside a hiredis callback: drop it from the loop.
      asio::post(self->loop, [weak = self->weak_from_this()] {
        if (auto s = weak.lock()) s->lose(s->last_error);
      });
      return;
    }
    self->phase = Phase::ready;
    self->report_up();
  }
  bool setup_failed = false;

  // Drops the connection (not from inside a hiredis callback), answers what
  // was pending from local counters and schedules a new attempt.
  void lose(const std::string& why) {
    if (phase == Phase::stopped) return;
    report_down(why);
    phase = Phase::idle;
    if (redisAsyncContext* c = context) {
      context = nullptr;
      c->data = nullptr;  // its callbacks find no store: the pending are answered below
      redisAsyncFree(c);
    }
    auto lost = std::move(pending);
    pending.clear();
    for (auto& [id, p] : lost) answer_locally(std::move(p.request), p.done);
    schedule_retry();
  }

  void schedule_retry() {
    if (phase == Phase::stopped) return;
    retry_timer.expires_after(backoff);
    backoff = std::min(backoff * 2, kRetryMax);
    retry_timer.async_wait([weak = weak_from_this()](const std::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock(); self && self->phase == Phase::idle) self->connect();
    });
  }

  void stop() {
    phase = Phase::stopped;
    retry_timer.cancel();
    deadline_timer.cancel();
    resolver.cancel();
    if (redisAsyncContext* c = context) {
      context = nullptr;
      c->data = nullptr;
      redisAsyncFree(c);
    }
    auto lost = std::move(pending);
    pending.clear();
    for (auto& [id, p] : lost) answer_locally(std::move(p.request), p.done);
  }
};

RedisStore::RedisStore(asio::io_context& loop, config::RedisUrl url)
    : impl_(std::make_shared<Impl>(loop, std::move(url))) {
  obs::event("state", "backend=redis url={} status=starting", impl_->url.redacted());
  asio::post(loop, [weak = std::weak_ptr<Impl>(impl_)] {
    if (auto self = weak.lock()) self->connect();
  });
}

RedisStore::~RedisStore() {
  impl_->stop();
}

void RedisStore::apply(limits::Request request, Done done) {
  asio::post(impl_->loop,
             [impl = impl_, request = std::move(request), done = std::move(done)]() mutable {
               impl->submit(std::move(request), std::move(done));
             });
}

std::string RedisStore::describe() const {
  return impl_->url.redacted();
}

}  // namespace postern::state
