#include "state/redis_probe.hpp"

#include <hiredis/hiredis.h>

#include <memory>

namespace postern::state {
namespace {

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

// An error text, or nothing when the reply is not an error.
std::optional<std::string> failed(redisContext* c, const Reply& r, const char* what) {
  if (!r) return std::string(what) + ": " + (c->errstr[0] ? c->errstr : "no answer");
  if (r->type == REDIS_REPLY_ERROR) return std::string(what) + ": " + std::string(r->str, r->len);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> probe_redis(const config::RedisUrl& url,
                                       std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<long>(timeout.count() / 1000);
  tv.tv_usec = static_cast<long>((timeout.count() % 1000) * 1000);
  std::unique_ptr<redisContext, ContextFree> c(
      redisConnectWithTimeout(url.host.c_str(), url.port, tv));
  if (!c) return std::string("out of memory");
  if (c->err) return std::string("cannot connect: ") + c->errstr;
  redisSetTimeout(c.get(), tv);
  auto command = [&](const char* format, auto... args) {
    return Reply(static_cast<redisReply*>(redisCommand(c.get(), format, args...)));
  };
  if (!url.password.empty()) {
    Reply r = url.user.empty() ? command("AUTH %b", url.password.data(), url.password.size())
                               : command("AUTH %b %b", url.user.data(), url.user.size(),
                                         url.password.data(), url.password.size());
    if (auto e = failed(c.get(), r, "AUTH refused")) return e;
  }
  if (url.db != 0) {
    if (auto e = failed(c.get(), command("SELECT %d", url.db), "SELECT refused")) return e;
  }
  if (auto e = failed(c.get(), command("PING"), "PING")) return e;
  return std::nullopt;
}

}  // namespace postern::state
