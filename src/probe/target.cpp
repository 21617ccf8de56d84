#include "probe/target.hpp"

#include <charconv>

#include "config/host_port.hpp"

namespace postern::probe {
namespace {

// A port after the last colon, when the text is not a bare IPv6 literal.
bool split_port(std::string_view text, std::string_view& host, std::uint16_t& port) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view digits = text.substr(colon + 1);
  unsigned value = 0;
  const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || value == 0 ||
      value > 65535) {
    return false;
  }
  host = text.substr(0, colon);
  port = static_cast<std::uint16_t>(value);
  return true;
}

}  // namespace

std::optional<Target> parse_target(std::string_view text, std::string& why) {
  why.clear();
  if (text.empty()) {
    why = "no host given";
    return std::nullopt;
  }
  Target t;
  if (config::is_ip_literal(text)) {  // "::1", "192.0.2.1": no port
    t.host = std::string(text);
    return t;
  }
  if (text.front() == '[') {
    auto hp = config::parse_host_port(text, why);
    if (!hp) return std::nullopt;
    t.host = hp->host;
    t.port = hp->port;
    return t;
  }
  std::string_view name = text;
  std::uint16_t port = 0;
  if (split_port(text, name, port)) t.port = port;
  if (name.empty()) {
    why = "no host before the port in \"" + std::string(text) + "\"";
    return std::nullopt;
  }
  if (name.find(':') != std::string_view::npos) {
    why = "\"" + std::string(text) +
          "\" is not host:port (write IPv6 addresses with a port "
          "as [address]:port)";
    return std::nullopt;
  }
  t.host = std::string(name);
  return t;
}

std::optional<std::chrono::milliseconds> parse_timeout(std::string_view text) {
  double value = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p == text.data()) return std::nullopt;
  const std::string_view unit = text.substr(static_cast<std::size_t>(p - text.data()));
  double ms = 0;
  if (unit.empty() || unit == "s") {
    ms = value * 1000;
  } else if (unit == "ms") {
    ms = value;
  } else if (unit == "m") {
    ms = value * 60000;
  } else {
    return std::nullopt;
  }
  if (!(ms >= 1) || ms > 3600.0 * 1000) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

}  // namespace postern::probe
