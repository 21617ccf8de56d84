// Open-relay-like settings: relay_networks lets clients send anywhere without
// AUTH (like Postfix's mynetworks), so it must stay small and private.
#include <arpa/inet.h>

#include <array>

#include "config/lint_rules.hpp"

namespace postern::config {
namespace {

// Networks whose hosts are not reachable from the public Internet, or are
// the machine itself: RFC 1918, RFC 6598 (CGNAT), loopback, link-local,
// RFC 4193 unique local, and their IPv4-mapped forms.
constexpr std::array kPrivate = {"10.0.0.0/8",
                                 "172.16.0.0/12",
                                 "192.168.0.0/16",
                                 "127.0.0.0/8",
                                 "169.254.0.0/16",
                                 "100.64.0.0/10",
                                 "::1/128",
                                 "fc00::/7",
                                 "fe80::/10",
                                 "::ffff:10.0.0.0/104",
                                 "::ffff:172.16.0.0/108",
                                 "::ffff:192.168.0.0/112",
                                 "::ffff:127.0.0.0/104"};

std::string address_text(const Network& n) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(n.v6 ? AF_INET6 : AF_INET, n.bytes, buf, sizeof buf);
  return buf;
}

bool within(const Network& inner, const Network& outer) {
  return inner.v6 == outer.v6 && inner.prefix >= outer.prefix &&
         outer.contains(address_text(inner));
}

// How many leading bits of an IPv4 address the network fixes; -1 when it is
// an IPv6 network that covers no IPv4-mapped addresses.
int ipv4_prefix(const Network& n) {
  if (!n.v6) return n.prefix;
  if (n.prefix <= 96) return n.contains("::ffff:0.0.0.0") ? 0 : -1;
  return n.contains("::ffff:" + std::to_string(n.bytes[12]) + "." + std::to_string(n.bytes[13]) +
                    "." + std::to_string(n.bytes[14]) + "." + std::to_string(n.bytes[15]))
             ? n.prefix - 96
             : -1;
}

}  // namespace

void lint_relay(const Config& config, std::vector<Problem>& out) {
  for (std::size_t i = 0; i < config.relay_networks.size(); ++i) {
    const Network& n = config.relay_networks[i];
    const std::string where = config.where("relay_networks[" + std::to_string(i) + "]");
    bool is_private = false;
    for (const auto* p : kPrivate) {
      if (within(n, *parse_network(p))) is_private = true;
    }
    const int v4 = ipv4_prefix(n);
    const bool v4_mapped_range = n.v6 && v4 >= 0;
    // Shorter than /8 (IPv4) or /32 (IPv6, a whole regional allocation) is
    // no one's own network: it is the Internet. Private space (fc00::/7
    // included) is not reachable from outside, however broad.
    const bool too_broad =
        !is_private && ((v4 >= 0 && v4 < 8) || (n.v6 && !v4_mapped_range && n.prefix < 32));
    if (too_broad) {
      out.push_back(error_at(
          where,
          "relay_networks entry \"" + n.text +
              "\" makes postern an open relay: anyone in it can send mail to any domain "
              "without AUTH, and spammers find open relays within hours",
          "list only your own networks (e.g. \"192.168.1.0/24\"); remote users should send "
          "through a submission listener with AUTH"));
      continue;
    }
    if (!is_private) {
      out.push_back(warning_at(
          where,
          "relay_networks entry \"" + n.text +
              "\" contains public addresses: every host there can relay mail without AUTH",
          "keep relay_networks to private networks you control; use submission with AUTH "
          "for anything else"));
    }
  }
}

}  // namespace postern::config
