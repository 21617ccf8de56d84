#include "dns/mx_records.hpp"

#include <algorithm>

#include "dns/rdata.hpp"

namespace postern::dns {

std::optional<MxHost> parse_mx_rdata(std::span<const unsigned char> rdata) {
  if (rdata.size() < 3) return std::nullopt;  // the preference and at least the root label
  // The exchange is a name like a PTR's (RFC 1035 §3.3.9): libunbound hands
  // it out decompressed, so dns/rdata's decoder checks its labels.
  auto host = parse_name_rdata(rdata.subspan(2));
  if (!host) return std::nullopt;
  MxHost mx;
  mx.preference = (rdata[0] << 8) | rdata[1];
  mx.host = std::move(*host);
  return mx;
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
