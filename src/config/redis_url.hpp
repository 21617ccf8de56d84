// `[state] url`: "redis://[[user]:password@]host[:port][/db]" (the form
// redis-cli -u takes). Pure, so the loader and `postern check` use it too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::config {

struct RedisUrl {
  std::string host;  // name, IPv4, or IPv6 without brackets
  std::uint16_t port = 6379;
  int db = 0;
  std::string user;      // Redis 6 ACL user; empty: the default user
  std::string password;  // empty: no AUTH
  // The URL without its password, for logs and messages.
  std::string redacted() const;
};

struct RedisUrlParse {
  std::optional<RedisUrl> url;
  std::string error;  // what is wrong, with the expected form
};
RedisUrlParse parse_redis_url(std::string_view text);

}  // namespace postern::config
