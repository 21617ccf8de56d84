// relay_networks entries (SPEC §2): "192.168.0.0/16", "::1/128", or a bare
// address meaning that one host, as in Postfix's mynetworks.
#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string>

#include "config/config.hpp"

namespace postern::config {
namespace {

struct Ip {
  bool v6 = false;
  std::uint8_t bytes[16] = {};
};

std::optional<Ip> parse_ip(std::string_view text) {
  // Tolerate the forms peers and logs use: "[::1]" and "fe80::1%eth0".
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (const auto pct = text.find('%'); pct != std::string_view::npos) text = text.substr(0, pct);
  const std::string s(text);
  Ip ip;
  if (::inet_pton(AF_INET, s.c_str(), ip.bytes) == 1) return ip;
  if (::inet_pton(AF_INET6, s.c_str(), ip.bytes) == 1) {
    ip.v6 = true;
    return ip;
  }
  return std::nullopt;
}

// ::ffff:a.b.c.d, the form a v4 client has on a dual-stack socket
// (RFC 4291 §2.5.5.2).
bool is_v4_mapped(const std::uint8_t* b) {
  static constexpr std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(b, kPrefix, sizeof kPrefix) == 0;
}

bool prefix_equal(const std::uint8_t* a, const std::uint8_t* b, int prefix) {
  const int full = prefix / 8;
  if (std::memcmp(a, b, static_cast<std::size_t>(full)) != 0) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

std::optional<Network> parse_network(std::string_view text) {
  std::string_view addr = text;
  std::optional<int> prefix;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    const auto p = text.substr(slash + 1);
    int value = -1;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size()) return std::nullopt;
    prefix = value;
  }
  if (addr.find('[') != std::string_view::npos || addr.find('%') != std::string_view::npos) {
    return std::nullopt;
  }
  const auto ip = parse_ip(addr);
  if (!ip) return std::nullopt;
  Network n;
  n.text = std::string(text);
  n.v6 = ip->v6;
  const int max_prefix = ip->v6 ? 128 : 32;
  n.prefix = prefix.value_or(max_prefix);
  if (n.prefix < 0 || n.prefix > max_prefix) return std::nullopt;
  // Keep only the network part, so "192.168.1.7/24" means 192.168.1.0/24.
  std::memcpy(n.bytes, ip->bytes, sizeof n.bytes);
  for (int bit = n.prefix; bit < max_prefix; ++bit) {
    n.bytes[bit / 8] = static_cast<std::uint8_t>(n.bytes[bit / 8] & ~(0x80 >> (bit % 8)));
  }
  return n;
}

bool Network::contains(std::string_view text_ip) const {
  const auto ip = parse_ip(text_ip);
  if (!ip) return false;
  if (v6 == ip->v6) return prefix_equal(bytes, ip->bytes, prefix);
  if (!v6 && ip->v6 && is_v4_mapped(ip->bytes)) return prefix_equal(bytes, ip->bytes + 12, prefix);
  if (v6 && !ip->v6) {
    // A v4 client against a v6 network: compare as ::ffff:a.b.c.d, so that
    // "::ffff:0:0/96" covers every IPv4 client.
    std::uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    std::memcpy(mapped + 12, ip->bytes, 4);
    return prefix_equal(bytes, mapped, prefix);
  }
  return false;
}

}  // namespace postern::config
