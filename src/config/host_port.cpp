#include "config/host_port.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace postern::config {

std::optional<HostPort> parse_host_port(std::string_view text, std::string& why) {
  HostPort result;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      why = "missing ']' after the IPv6 address";
      return std::nullopt;
    }
    result.host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      why = "missing ':port' after ']'";
      return std::nullopt;
    }
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      why = "missing ':port'";
      return std::nullopt;
    }
    result.host = std::string(text.substr(0, colon));
    if (result.host.find(':') != std::string::npos) {
      why = "an IPv6 address must be written in brackets, like [::1]:587";
      return std::nullopt;
    }
    port_text = text.substr(colon + 1);
  }
  if (result.host.empty()) {
    why = "missing host before ':port'";
    return std::nullopt;
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port < 1 || port > 65535) {
    why = "port must be a number from 1 to 65535";
    return std::nullopt;
  }
  result.port = static_cast<std::uint16_t>(port);
  return result;
}

bool is_ip_literal(std::string_view host, bool* v6) {
  const std::string h(host);
  unsigned char buf[16];
  if (::inet_pton(AF_INET, h.c_str(), buf) == 1) {
    if (v6) *v6 = false;
    return true;
  }
  if (::inet_pton(AF_INET6, h.c_str(), buf) == 1) {
    if (v6) *v6 = true;
    return true;
  }
  return false;
}

std::string canonical_ip(std::string_view host) {
  const std::string h(host);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (::inet_pton(AF_INET, h.c_str(), buf) == 1) {
    return ::inet_ntop(AF_INET, buf, out, sizeof out) ? std::string(out) : h;
  }
  if (::inet_pton(AF_INET6, h.c_str(), buf) == 1) {
    return ::inet_ntop(AF_INET6, buf, out, sizeof out) ? std::string(out) : h;
  }
  return h;
}

}  // namespace postern::config
