// An IPv4 or IPv6 address as SPF needs it (RFC 7208 §5.6, §7.3): network
// matching with a prefix length, the reverse-lookup name and the dotted
// forms of the %{i} and %{c} macros. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::mailauth::spf {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4

  // Strict textual forms (inet_pton). An IPv4-mapped IPv6 address
  // (::ffff:192.0.2.1) becomes the IPv4 address: RFC 7208 §5 evaluates such
  // a client as IPv4.
  static std::optional<IpAddress> parse(std::string_view text);

  // Whether the first `prefix` bits equal those of `network` (same family).
  bool in_network(const IpAddress& network, int prefix) const;
  bool operator==(const IpAddress&) const = default;

  std::string text() const;          // 192.0.2.1, 2001:db8::1
  std::string macro_i() const;       // %{i}: dotted quad, or 32 dotted nibbles
  std::string reverse_name() const;  // 1.2.0.192.in-addr.arpa / nibbles.ip6.arpa
};

}  // namespace postern::mailauth::spf
