#include "dns/mx_records.hpp"

#include <algorithm>

namespace postern::dns {

std::optional<MxHost> parse_mx_rdata(std::span<const unsigned char> rdata) {
  if (rdata.size() < 3) return std::nullopt;  // the preference and at least the root label
  MxHost mx;
  mx.preference = (rdata[0] << 8) | rdata[1];
  // RFC 1035 §3.1: labels of at most 63 octets, ended by the zero-length
  // root label; names in libunbound's RDATA are already decompressed, so a
  // compression pointer (top bits set) is malformed here.
  std::size_t i = 2;
  while (i < rdata.size()) {
    const std::size_t length = rdata[i++];
    if (length == 0) {
      if (i != rdata.size() || mx.host.size() > 253) return std::nullopt;
      for (auto& c : mx.host) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      return mx;
    }
    if (length > 63 || i + length > rdata.size()) return std::nullopt;
    if (!mx.host.empty()) mx.host += '.';
    for (std::size_t k = i; k < i + length; ++k) {
      // A host name is printable ASCII (RFC 5321 §2.3.5); a dot or a control
      // octet inside a label would change the name once written as text.
      const unsigned char c = rdata[k];
      if (c <= 0x20 || c >= 0x7f || c == '.') return std::nullopt;
      mx.host += static_cast<char>(c);
    }
    i += length;
  }
  return std::nullopt;  // no root label
}

MxResult order_mx(std::vector<MxHost> records, const std::string& domain, std::mt19937& rng) {
  MxResult out;
  if (records.size() == 1 && records[0].host.empty() && records[0].preference == 0) {
    out.status = Status::null_mx;
    out.error = "domain " + domain + " accepts no mail (null MX, RFC 7505)";
    return out;
  }
  std::erase_if(records, [](const MxHost& h) { return h.host.empty(); });
  if (records.empty()) {
    out.status = Status::no_data;
    out.error = "the MX records of " + domain + " name no mail host";
    return out;
  }
  std::shuffle(records.begin(), records.end(), rng);
  std::stable_sort(records.begin(), records.end(),
                   [](const MxHost& a, const MxHost& b) { return a.preference < b.preference; });
  out.status = Status::ok;
  out.hosts = std::move(records);
  return out;
}

}  // namespace postern::dns
