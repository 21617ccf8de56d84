#include "dns/unbound_context.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "obs/log.hpp"

namespace postern::dns {
namespace {

constexpr int kClassIn = 1;

bool is_ip(const std::string& text) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, text.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

bool is_loopback_ip(const std::string& ip) {
  in_addr v4{};
  if (::inet_pton(AF_INET, ip.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, ip.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6) != 0;
  return false;
}

// "192.0.2.1", "192.0.2.1:5353", "2001:db8::1" or "[2001:db8::1]:5353" in
// unbound's "address@port" form. Throws on anything else.
struct Forwarder {
  std::string ip;
  std::string unbound_form;
};

Forwarder parse_server(const std::string& server) {
  std::string ip = server;
  std::string port;
  if (!server.empty() && server.front() == '[') {
    const auto close = server.find(']');
    if (close == std::string::npos) throw std::runtime_error("missing ']'");
    ip = server.substr(1, close - 1);
    const std::string rest = server.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw std::runtime_error("expected ':port' after ']'");
      port = rest.substr(1);
    }
  } else if (std::count(server.begin(), server.end(), ':') == 1) {
    const auto colon = server.find(':');
    ip = server.substr(0, colon);
    port = server.substr(colon + 1);
  }
  if (!is_ip(ip)) throw std::runtime_error("'" + ip + "' is not an IP address");
  if (!port.empty()) {
    const bool digits =
        port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535) {
      throw std::runtime_error("'" + port + "' is not a port number");
    }
  }
  return {ip, port.empty() ? ip : ip + "@" + port};
}

// Whether /etc/resolv.conf names a resolver on loopback (systemd-resolved's
// 127.0.0.53, a local unbound on 127.0.0.1): unbound skips those unless told.
bool resolv_conf_uses_loopback(const char* path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string keyword;
    std::string address;
    if (words >> keyword >> address && keyword == "nameserver" && is_loopback_ip(address)) {
      return true;
    }
  }
  return false;
}

}  // namespace

UnboundContext::UnboundContext(const ResolverOptions& options) {
  ctx_ = ub_ctx_create();
  if (ctx_ == nullptr) throw std::runtime_error("DNS resolver: cannot create a libunbound context");
  try {
    auto check = [](int err, const std::string& what) {
      if (err != 0) throw std::runtime_error("DNS resolver: " + what + ": " + ub_strerror(err));
    };
    // A thread, not a forked process, does the background work.
    check(ub_ctx_async(ctx_, 1), "threaded mode");
    constexpr const char* kResolvConf = "/etc/resolv.conf";
    bool loopback = options.allow_loopback;
    Forwarder forwarder;
    if (options.server.empty()) {
      loopback = loopback || resolv_conf_uses_loopback(kResolvConf);
    } else {
      try {
        forwarder = parse_server(options.server);
      } catch (const std::runtime_error& e) {
        throw std::runtime_error("DNS resolver \"" + options.server + "\": " + e.what() +
                                 " (expected address or address:port, [IPv6]:port)");
      }
      loopback = loopback || is_loopback_ip(forwarder.ip);
    }
    // Options must precede the first lookup or zone change, which freeze
    // the configuration.
    if (loopback) {
      // Unbound ignores servers on loopback unless told otherwise; local
      // caching resolvers and the tests' fake server live there.
      check(ub_ctx_set_option(ctx_, "do-not-query-localhost:", "no"),
            "allowing a loopback resolver");
    }
    if (options.server.empty()) {
      check(ub_ctx_resolvconf(ctx_, kResolvConf), std::string("reading ") + kResolvConf);
      ub_ctx_hosts(ctx_, "/etc/hosts");  // optional: a missing file is fine
    } else {
      check(ub_ctx_set_fwd(ctx_, forwarder.unbound_form.c_str()), "resolver " + options.server);
    }
    if (loopback) {
      // Unbound answers the special-use "test." (RFC 6761 §6.2) itself with
      // NXDOMAIN; a resolver on loopback is where test zones are served.
      // UB_NOID only says this libunbound has no such default zone.
      ub_ctx_zone_remove(ctx_, "test.");
    }
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0)
      throw std::runtime_error(std::string("DNS resolver: eventfd: ") + std::strerror(errno));
    dispatcher_ = std::thread([this] { dispatch(); });
  } catch (...) {
    if (wake_fd_ >= 0) ::close(wake_fd_);
    ub_ctx_delete(ctx_);
    throw;
  }
}

UnboundContext::~UnboundContext() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  const std::uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof one) < 0) {
    // Cannot happen with an eventfd below its maximum count; the join below
    // would then wait forever, so say so loudly.
    obs::error("dns", "error=\"cannot stop the DNS dispatcher: {}\"", std::strerror(errno));
  }
  dispatcher_.join();
  // Stops libunbound's worker thread; queries still running are dropped
  // without callbacks (resolve_async ones too: the server is stopping and
  // their event loops are gone), and pending_ frees what is left.
  ub_ctx_delete(ctx_);
  ::close(wake_fd_);
}

std::vector<UnboundContext::Answer> UnboundContext::resolve(
    const std::vector<Question>& questions, std::chrono::steady_clock::time_point deadline) {
  std::vector<Answer> answers(questions.size());
  std::vector<Pending*> asked(questions.size(), nullptr);
  for (std::size_t i = 0; i < questions.size(); ++i) {
    auto pending = std::make_unique<Pending>();
    pending->owner = this;
    Pending* p = pending.get();
    {
      std::lock_guard lock(mutex_);
      if (broken_) {
        answers[i].error = UB_PIPE;
        continue;
      }
      pending_.emplace(p, std::move(pending));
    }
    int id = 0;
    // The answer may arrive (on the dispatcher) before this call returns;
    // `p` is registered already, and `id` only matters for a cancel.
    const int err = ub_resolve_async(ctx_, questions[i].name.c_str(), questions[i].type, kClassIn,
                                     p, &UnboundContext::on_answer, &id);
    std::lock_guard lock(mutex_);
    if (err != 0) {
      answers[i].error = err;
      pending_.erase(p);
      continue;
    }
    p->async_id = id;
    asked[i] = p;
  }

  std::unique_lock lock(mutex_);
  answered_.wait_until(lock, deadline, [&] {
    return std::all_of(asked.begin(), asked.end(), [](const Pending* p) { return !p || p->done; });
  });
  for (std::size_t i = 0; i < asked.size(); ++i) {
    Pending* p = asked[i];
    if (p == nullptr) continue;
    if (p->done) {
      answers[i].error = p->error;
      answers[i].result = std::move(p->result);
      pending_.erase(p);
      continue;
    }
    answers[i].timed_out = true;
    // ub_cancel takes only libunbound's own lock, which it never holds
    // while calling back, so calling it under mutex_ cannot deadlock.
    if (ub_cancel(ctx_, p->async_id) == 0) {
      pending_.erase(p);  // no callback will come
    } else {
      p->abandoned = true;  // the answer is being delivered: complete() frees it
    }
  }
  return answers;
}

void UnboundContext::on_answer(void* arg, int error, ub_result* result) {
  auto* p = static_cast<Pending*>(arg);
  p->owner->complete(p, error, result);
}

void UnboundContext::resolve_async(const Question& question,
                                   std::chrono::steady_clock::time_point deadline, Callback done) {
  auto pending = std::make_unique<Pending>();
  Pending* p = pending.get();
  p->owner = this;
  p->callback = std::move(done);
  p->deadline = deadline;
  {
    std::lock_guard lock(mutex_);
    if (!broken_) pending_.emplace(p, std::move(pending));
  }
  if (pending) {  // not taken: the context is broken
    Answer a;
    a.error = UB_PIPE;
    pending->callback(std::move(a));
    return;
  }
  int id = 0;
  // The answer may be delivered (complete(), on the dispatcher) before this
  // call returns; `p` stays registered until both sides are through with it.
  const int err =
      ub_resolve_async(ctx_, question.name.c_str(), question.type, kClassIn, p, &on_answer, &id);
  Callback failed;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (err != 0) {
      failed = std::move(p->callback);
      pending_.erase(p);
    } else if (p->done) {
      pending_.erase(p);  // already answered and called back
    } else {
      p->async_id = id;
      p->registered = true;
      // The dispatcher sleeps until the earliest deadline it knows of.
      wake = deadline < next_wake_;
    }
  }
  if (failed) {
    Answer a;
    a.error = err;
    failed(std::move(a));
  }
  if (wake) {
    const std::uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof one) < 0) {
      obs::error("dns", "error=\"cannot wake the DNS dispatcher: {}\"", std::strerror(errno));
    }
  }
}

void UnboundContext::complete(Pending* p, int error, ub_result* result) {
  Result owned(result);
  std::unique_lock lock(mutex_);
  if (p->abandoned) {
    pending_.erase(p);
    return;
  }
  if (p->callback) {
    Callback callback = std::move(p->callback);
    p->callback = nullptr;
    p->done = true;
    // Before resolve_async has recorded the query id, it still holds `p`
    // and frees it itself.
    if (p->registered) pending_.erase(p);
    lock.unlock();
    Answer a;
    a.error = error;
    a.result = std::move(owned);
    callback(std::move(a));
    return;
  }
  p->done = true;
  p->error = error;
  p->result = std::move(owned);
  answered_.notify_all();
}

int UnboundContext::expire_async(std::vector<std::pair<Callback, Answer>>& due) {
  const auto now = std::chrono::steady_clock::now();
  auto next = std::chrono::steady_clock::time_point::max();
  std::lock_guard lock(mutex_);
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending* p = it->first;
    if (!p->callback || p->done || !p->registered) {
      ++it;
      continue;
    }
    // ub_cancel takes only libunbound's own lock (see resolve()); on this
    // thread no answer for `p` can be half-delivered.
    if (p->deadline <= now && ub_cancel(ctx_, p->async_id) == 0) {
      Answer a;
      a.timed_out = true;
      due.emplace_back(std::move(p->callback), std::move(a));
      it = pending_.erase(it);
      continue;
    }
    next = std::min(next, p->deadline);
    ++it;
  }
  next_wake_ = next;
  if (next == std::chrono::steady_clock::time_point::max()) return -1;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1;
  return static_cast<int>(std::clamp<long long>(ms, 1, 60'000));
}

void UnboundContext::dispatch() {
  pollfd fds[2] = {{ub_fd(ctx_), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  for (;;) {
    std::vector<std::pair<Callback, Answer>> due;
    const int timeout = expire_async(due);
    for (auto& [callback, answer] : due) callback(std::move(answer));
    if (::poll(fds, 2, timeout) < 0) {
      if (errno == EINTR) continue;
      fail("poll", UB_PIPE);
      return;
    }
    if (fds[1].revents != 0) {
      std::uint64_t count = 0;
      if (::read(wake_fd_, &count, sizeof count) < 0 && errno != EAGAIN) {
        fail("reading the wake-up descriptor", UB_PIPE);
        return;
      }
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    if (fds[0].revents != 0) {
      // Runs on_answer for every answer ready; mutex_ is not held here.
      const int err = ub_process(ctx_);
      if (err != 0) {
        fail("reading answers from libunbound", err);
        return;
      }
    }
  }
}

void UnboundContext::fail(const std::string& what, int error) {
  obs::error("dns", "error=\"DNS resolver stopped: {}: {}\"", what, ub_strerror(error));
  std::vector<Callback> waiting;
  {
    std::lock_guard lock(mutex_);
    broken_ = true;
    for (auto it = pending_.begin(); it != pending_.end();) {
      Pending* p = it->first;
      if (p->abandoned) {
        it = pending_.erase(it);
        continue;
      }
      if (p->callback && !p->done) {
        waiting.push_back(std::move(p->callback));
        p->done = true;
        // Not yet registered: resolve_async frees it.
        it = p->registered ? pending_.erase(it) : std::next(it);
        continue;
      }
      p->done = true;
      p->error = error;
      ++it;
    }
    answered_.notify_all();
  }
  for (auto& callback : waiting) {
    Answer a;
    a.error = error;
    callback(std::move(a));
  }
}

}  // namespace postern::dns
