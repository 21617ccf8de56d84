#include "dns_records/required_records.hpp"

#include "mailauth/spf/ip_address.hpp"

namespace postern::dns_records {

using mailauth::spf::IpAddress;

const char* kind_label(Kind kind) {
  switch (kind) {
    case Kind::mx:
      return "MX";
    case Kind::a:
      return "A";
    case Kind::aaaa:
      return "AAAA";
    case Kind::spf:
      return "SPF";
    case Kind::dkim:
      return "DKIM";
    case Kind::dmarc:
      return "DMARC";
    case Kind::ptr:
      return "PTR";
  }
  return "?";
}

std::string spf_record_for(const ServerIdentity& server) {
  std::string out = "v=spf1";
  if (server.addresses.empty()) {
    out += server.hostname == server.domain ? " a" : " a:" + server.hostname;
  }
  for (const auto& text : server.addresses) {
    const auto ip = IpAddress::parse(text);
    if (!ip) continue;
    out += (ip->v6 ? " ip6:" : " ip4:") + ip->text();
  }
  return out + " -all";
}

std::string dmarc_record_for(const std::string& domain) {
  return "v=DMARC1; p=none; rua=mailto:postmaster@" + domain;
}

std::string quoted_txt(std::string_view value) {
  // RFC 1035 §3.3.14: a TXT record is one or more character-strings of at
  // most 255 octets; receivers join them with nothing in between (RFC 6376
  // §3.6.2.2, RFC 7208 §3.3), so the split may fall anywhere.
  constexpr std::size_t kMaxString = 255;
  std::string out;
  for (std::size_t i = 0; i < value.size() || i == 0; i += kMaxString) {
    if (!out.empty()) out += ' ';
    out += '"';
    for (const char c : value.substr(i, kMaxString)) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
    if (value.empty()) break;
  }
  return out;
}

std::string zone_line(const DnsRecord& r, bool aligned) {
  std::string value = r.value;
  if (r.type == "TXT") value = quoted_txt(r.value);
  if (r.type == "MX" || r.type == "PTR") value += '.';
  std::string name = r.name + ".";
  if (!aligned) return name + " IN " + r.type + " " + value;
  if (name.size() < 32) name.resize(32, ' ');
  return name + " IN " + r.type + (r.type.size() < 4 ? std::string(5 - r.type.size(), ' ') : " ") +
         value;
}

std::string reverse_name(const std::string& address) {
  const auto ip = IpAddress::parse(address);
  return ip ? ip->reverse_name() : std::string();
}

std::vector<DnsRecord> required_records(const ServerIdentity& s) {
  std::vector<DnsRecord> out;
  out.push_back(
      {Kind::mx, s.domain, "MX", "10 " + s.hostname, "mail for " + s.domain + " comes here"});
  for (const auto& text : s.addresses) {
    const auto ip = IpAddress::parse(text);
    if (!ip) continue;
    out.push_back({ip->v6 ? Kind::aaaa : Kind::a, s.hostname, ip->v6 ? "AAAA" : "A", ip->text(),
                   "the server's name leads to its address (the MX and the PTR name it)"});
  }
  DnsRecord spf{Kind::spf, s.domain, "TXT", spf_record_for(s),
                "the addresses that send mail as " + s.domain};
  if (!s.smarthost.empty()) {
    spf.note = "mail leaves through the smarthost " + s.smarthost +
               ": add the provider's SPF include (see its documentation)";
  }
  out.push_back(std::move(spf));
  for (const auto& key : s.dkim) {
    out.push_back({Kind::dkim, key.selector + "._domainkey." + s.domain, "TXT", key.value,
                   "DKIM public key of " + key.key_file});
  }
  out.push_back({Kind::dmarc, "_dmarc." + s.domain, "TXT", dmarc_record_for(s.domain),
                 "start with p=none; once the reports show only your own mail passing, "
                 "move to p=quarantine"});
  for (const auto& text : s.addresses) {
    const std::string reverse = reverse_name(text);
    if (reverse.empty()) continue;
    out.push_back({Kind::ptr, reverse, "PTR", s.hostname,
                   "reverse DNS: set it where the address comes from (the hosting provider's "
                   "panel), not in your zone"});
  }
  return out;
}

}  // namespace postern::dns_records
