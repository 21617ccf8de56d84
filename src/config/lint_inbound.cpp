// [inbound] (SPEC §1.8): combinations that load but do not do what the
// operator most likely meant.
#include "config/lint_rules.hpp"

namespace postern::config {

void lint_inbound(const Config& config, std::vector<Problem>& out) {
  const InboundConfig& in = config.inbound;
  bool relay_listener = false;
  for (const auto& l : config.listeners) relay_listener = relay_listener || l.role == Role::relay;
  if (in.dmarc_policy == "enforce" && !in.dmarc) {
    out.push_back(warning_at(config.where("inbound.dmarc_policy"),
                             "[inbound] dmarc_policy = \"enforce\" has no effect while dmarc = "
                             "false",
                             "set dmarc = true to enforce DMARC, or remove dmarc_policy"));
  }
  if (in.dmarc && !in.spf && !in.dkim) {
    out.push_back(warning_at(
        config.where("inbound.dmarc"),
        "[inbound] dmarc = true with spf and dkim both false: DMARC passes only through an "
        "aligned SPF or DKIM pass, so every message with a DMARC record fails it",
        "set spf = true and dkim = true (DMARC builds on them), or dmarc = false"));
  }
  if (!relay_listener && (!in.dnsbl.empty() || config.lines.count("inbound.dmarc_policy") > 0)) {
    out.push_back(
        warning_at(config.where(in.dnsbl.empty() ? "inbound.dmarc_policy" : "inbound.dnsbl"),
                   "[inbound] applies to relay listeners only, and there is none",
                   "add a [[listener]] with role = \"relay\" (port 25) or remove the "
                   "[inbound] settings"));
  }
}

}  // namespace postern::config
