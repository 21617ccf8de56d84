#include "dns_records/public_address.hpp"

#include "mailauth/spf/ip_address.hpp"

namespace postern::dns_records {

bool is_public_address(const std::string& address) {
  using mailauth::spf::IpAddress;
  const auto ip = IpAddress::parse(address);
  if (!ip) return false;
  struct Range {
    const char* network;
    int prefix;
  };
  static const Range kNotPublic[] = {
      {"0.0.0.0", 8},      {"10.0.0.0", 8},      {"100.64.0.0", 10},  {"127.0.0.0", 8},
      {"169.254.0.0", 16}, {"172.16.0.0", 12},   {"192.0.2.0", 24},   {"192.168.0.0", 16},
      {"198.18.0.0", 15},  {"198.51.100.0", 24}, {"203.0.113.0", 24}, {"224.0.0.0", 3},
      {"::", 128},         {"::1", 128},         {"fc00::", 7},       {"fe80::", 10},
      {"ff00::", 8},       {"2001:db8::", 32},
  };
  for (const Range& r : kNotPublic) {
    if (ip->in_network(*IpAddress::parse(r.network), r.prefix)) return false;
  }
  return true;
}

}  // namespace postern::dns_records
