#include "mailauth/spf/ip_address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace postern::mailauth::spf {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  const std::string s(text);
  IpAddress ip;
  if (::inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return ip;
  if (::inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) != 1) return std::nullopt;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(ip.bytes.data(), kMapped, sizeof kMapped) == 0) {
    IpAddress v4;
    std::memcpy(v4.bytes.data(), ip.bytes.data() + 12, 4);
    return v4;
  }
  ip.v6 = true;
  return ip;
}

bool IpAddress::in_network(const IpAddress& network, int prefix) const {
  if (v6 != network.v6) return false;
  const int bits = v6 ? 128 : 32;
  if (prefix < 0 || prefix > bits) return false;
  int whole = prefix / 8;
  if (std::memcmp(bytes.data(), network.bytes.data(), static_cast<std::size_t>(whole)) != 0) {
    return false;
  }
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (bytes[static_cast<std::size_t>(whole)] & mask) ==
         (network.bytes[static_cast<std::size_t>(whole)] & mask);
}

std::string IpAddress::text() const {
  char out[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), out, sizeof out);
  return out;
}

namespace {

const char* const kHex = "0123456789abcdef";

// The 32 nibbles of an IPv6 address, most significant first.
std::string nibbles(const std::array<std::uint8_t, 16>& b, bool reversed) {
  std::string out;
  for (int k = 0; k < 32; ++k) {
    const int n = reversed ? 31 - k : k;
    const std::uint8_t byte = b[static_cast<std::size_t>(n / 2)];
    if (!out.empty()) out += '.';
    out += kHex[n % 2 == 0 ? byte >> 4 : byte & 0xf];
  }
  return out;
}

}  // namespace

std::string IpAddress::macro_i() const {
  if (v6) return nibbles(bytes, false);  // RFC 7208 §7.3: dot-format nibbles
  return text();
}

std::string IpAddress::reverse_name() const {
  if (v6) return nibbles(bytes, true) + ".ip6.arpa";
  return std::to_string(bytes[3]) + "." + std::to_string(bytes[2]) + "." +
         std::to_string(bytes[1]) + "." + std::to_string(bytes[0]) + ".in-addr.arpa";
}

}  // namespace postern::mailauth::spf
