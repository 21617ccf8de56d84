#include <algorithm>

#include "config/loader.hpp"

namespace postern::config {

// [inbound] (SPEC §1.8): spf, dkim, dmarc (default true), dmarc_policy
// ("tag" | "enforce"), dnsbl (list zones, default none).
void Loader::load_inbound(const toml::table& root) {
  const toml::table* t = get_table(root, "inbound");
  if (!t) return;
  check_keys(*t, "inbound", kInboundKeys);
  InboundConfig& in = config_.inbound;
  if (auto b = get_bool(*t, "spf", "inbound.spf")) in.spf = *b;
  if (auto b = get_bool(*t, "dkim", "inbound.dkim")) in.dkim = *b;
  if (auto b = get_bool(*t, "dmarc", "inbound.dmarc")) in.dmarc = *b;
  if (auto p = get_choice(*t, "dmarc_policy", "inbound.dmarc_policy", {"tag", "enforce"},
                          "\"tag\" only records the DMARC result in Authentication-Results; "
                          "\"enforce\" also refuses p=reject failures and files p=quarantine "
                          "failures in the Junk folder")) {
    in.dmarc_policy = *p;
  }
  if (auto lists = get_string_array(*t, "dnsbl", "[\"zen.spamhaus.org\"]")) {
    config_.lines["inbound.dnsbl"] = config_.lines["dnsbl"];
    config_.lines.erase("dnsbl");
    for (auto& [zone, line] : *lists) {
      std::string z = ascii_lower(zone);
      if (!z.empty() && z.back() == '.') z.pop_back();
      if (!is_hostname(z) || z.find('.') == std::string::npos) {
        error(line, "[inbound] dnsbl entry \"" + zone + "\" is not a DNS zone",
              "list the blocklists' zone names, e.g. dnsbl = [\"zen.spamhaus.org\"] (no "
              "addresses, no URLs)");
        continue;
      }
      if (std::find(in.dnsbl.begin(), in.dnsbl.end(), z) == in.dnsbl.end()) {
        in.dnsbl.push_back(std::move(z));
      }
    }
  }
}

}  // namespace postern::config
