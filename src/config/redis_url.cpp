#include "config/redis_url.hpp"

#include <fmt/format.h>

namespace postern::config {
namespace {

constexpr std::string_view kForm = "write redis://host:port/db, e.g. redis://127.0.0.1:6379/0";

std::optional<long> small_number(std::string_view s, long max) {
  if (s.empty() || s.size() > 6) return std::nullopt;
  long n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n > max) return std::nullopt;
  return n;
}

}  // namespace

std::string RedisUrl::redacted() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const std::string auth = password.empty() ? "" : (user.empty() ? ":***@" : user + ":***@");
  return fmt::format("redis://{}{}:{}/{}", auth, h, port, db);
}

RedisUrlParse parse_redis_url(std::string_view text) {
  RedisUrlParse out;
  constexpr std::string_view kScheme = "redis://";
  if (!text.starts_with(kScheme)) {
    out.error = text.starts_with("rediss://")
                    ? "TLS to Redis (rediss://) is not supported; use redis:// on a trusted "
                      "network or a local tunnel"
                    : fmt::format("the URL must start with redis://; {}", kForm);
    return out;
  }
  std::string_view rest = text.substr(kScheme.size());
  RedisUrl url;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      url.password = std::string(userinfo);  // "redis://secret@host"
    } else {
      url.user = std::string(userinfo.substr(0, colon));
      url.password = std::string(userinfo.substr(colon + 1));
    }
  }
  std::string_view hostport = rest;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      const auto n = small_number(db, 1000);
      if (!n) {
        out.error =
            fmt::format("the database \"{}\" is not a number from 0 to 1000; {}", db, kForm);
        return out;
      }
      url.db = static_cast<int>(*n);
    }
  }
  std::string_view port_text;
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) {
      out.error = fmt::format("the IPv6 address has no closing ]; {}", kForm);
      return out;
    }
    url.host = std::string(hostport.substr(1, close - 1));
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        out.error = fmt::format("unexpected \"{}\" after the address; {}", after, kForm);
        return out;
      }
      port_text = after.substr(1);
    }
  } else if (const auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    url.host = std::string(hostport.substr(0, colon));
    port_text = hostport.substr(colon + 1);
  } else {
    url.host = std::string(hostport);
  }
  if (url.host.empty()) {
    out.error = fmt::format("the URL names no host; {}", kForm);
    return out;
  }
  if (!port_text.empty()) {
    const auto p = small_number(port_text, 65535);
    if (!p || *p == 0) {
      out.error =
          fmt::format("the port \"{}\" is not a number from 1 to 65535; {}", port_text, kForm);
      return out;
    }
    url.port = static_cast<std::uint16_t>(*p);
  }
  out.url = std::move(url);
  return out;
}

}  // namespace postern::config
