#include "addresses/outbound_sender.hpp"

#include <algorithm>

#include "message/message_text.hpp"
#include "policy/address.hpp"

namespace postern::addresses {
namespace {

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : policy::ascii_lower(address.substr(at + 1));
}

}  // namespace

OutboundSenderRules OutboundSenderRules::from_config(const config::Config& config,
                                                     std::vector<std::string> srs_secrets) {
  OutboundSenderRules r;
  for (const auto& d : config.local_domains) r.local_domains.push_back(policy::ascii_lower(d));
  r.relay_networks = config.relay_networks;
  r.srs.secrets = std::move(srs_secrets);
  r.srs.domain = config.addresses.effective_srs_domain(config.hostname, config.local_domains);
  for (const auto& [k, v] : config.addresses.smarthost_senders) {
    r.smarthost_senders[policy::ascii_lower(k)] = v;
  }
  r.smarthost_rewrite_from = config.addresses.smarthost_rewrite_from;
  return r;
}

bool OutboundSenderRules::forwarded(const Envelope& e) const {
  if (e.mail_from.empty() || !e.auth_user.empty() || e.client_ip.empty()) return false;
  const std::string domain = domain_of(e.mail_from);
  if (std::find(local_domains.begin(), local_domains.end(), domain) != local_domains.end()) {
    return false;
  }
  return std::none_of(relay_networks.begin(), relay_networks.end(),
                      [&](const config::Network& n) { return n.contains(e.client_ip); });
}

std::optional<std::string> OutboundSenderRules::smarthost_sender(std::string_view address) const {
  if (smarthost_senders.empty() || address.empty()) return std::nullopt;
  const std::string a = policy::ascii_lower(address);
  for (const std::string& key : {a, "@" + domain_of(a), std::string("*")}) {
    if (auto it = smarthost_senders.find(key); it != smarthost_senders.end()) return it->second;
  }
  return std::nullopt;
}

std::string OutboundSenderRules::envelope_sender(const Envelope& e, bool smarthost,
                                                 std::chrono::system_clock::time_point now) const {
  std::string sender = e.mail_from;
  if (forwarded(e)) {
    if (auto srs_sender = srs_forward(srs, sender, now)) sender = *srs_sender;
  }
  // The null sender stays null: a bounce must never get a return path.
  if (smarthost && !sender.empty()) {
    if (auto mapped = smarthost_sender(sender)) sender = *mapped;
  }
  return sender;
}

std::optional<std::string> OutboundSenderRules::rewrite_header_from(std::string_view data) const {
  if (!smarthost_rewrite_from) return std::nullopt;
  const std::size_t end = message::header_section_end(data);
  std::size_t pos = 0;
  while (pos < end) {
    std::size_t line_end = data.find("\r\n", pos);
    if (line_end == std::string_view::npos || line_end > end) line_end = end;
    // The field with its continuation lines.
    std::size_t field_end = line_end + 2;
    while (field_end < end && (data[field_end] == ' ' || data[field_end] == '\t')) {
      const auto next = data.find("\r\n", field_end);
      field_end = next == std::string_view::npos ? end : next + 2;
    }
    if (field_end > end) field_end = end;
    const std::string_view field = data.substr(pos, field_end - pos);
    if (field.size() > 5 && policy::ascii_lower(field.substr(0, 5)) == "from:") {
      const auto addresses = message::parse_address_list(field.substr(5));
      if (addresses.empty()) return std::nullopt;
      const auto mapped = smarthost_sender(addresses.front());
      if (!mapped || *mapped == addresses.front()) return std::nullopt;
      std::string value(field.substr(5));
      // Keep the display name: replace the address where it is written.
      const auto lt = value.find('<');
      const auto gt = value.find('>', lt == std::string::npos ? 0 : lt);
      std::string new_value = lt != std::string::npos && gt != std::string::npos
                                  ? value.substr(0, lt + 1) + *mapped + value.substr(gt)
                                  : " " + *mapped + "\r\n";
      if (!new_value.ends_with("\r\n")) new_value += "\r\n";
      std::string out(data.substr(0, pos));
      out += "From:" + new_value;
      out += data.substr(field_end);
      return out;
    }
    pos = field_end;
  }
  return std::nullopt;
}

}  // namespace postern::addresses
