// "host:port" and "[v6]:port" as written in listener addresses, the
// resolver and the smarthost.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::config {

struct HostPort {
  std::string host;  // without brackets
  std::uint16_t port = 0;
};

// Splits "host:port" / "[v6]:port"; the port must be 1-65535. On failure
// returns nullopt and says why in `why`.
std::optional<HostPort> parse_host_port(std::string_view text, std::string& why);

// True when `host` is an IPv4 or IPv6 literal; `v6` tells which.
bool is_ip_literal(std::string_view host, bool* v6 = nullptr);

// Canonical text of an IP literal ("0:0::0" -> "::"), for duplicate checks.
std::string canonical_ip(std::string_view host);

}  // namespace postern::config
