// `postern check`: can this machine reach the Redis of [state] url? A
// blocking connect and PING with a short timeout, for the command line
// only (the server never blocks on Redis, state/redis_store.hpp).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "config/redis_url.hpp"

namespace postern::state {

// Nothing when Redis answered PING (after AUTH and SELECT); otherwise why not.
std::optional<std::string> probe_redis(const config::RedisUrl& url,
                                       std::chrono::milliseconds timeout);

}  // namespace postern::state
