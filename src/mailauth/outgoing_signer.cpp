#include "mailauth/outgoing_signer.hpp"

#include <fmt/format.h>

#include "mailauth/author_domain.hpp"

namespace postern::mailauth {

OutgoingSigner::OutgoingSigner(std::vector<dkim::SigningKey> keys) {
  for (dkim::SigningKey& k : keys) {
    uses_rsa_ = uses_rsa_ || k.key.algorithm() == dkim::Algorithm::rsa_sha256;
    std::string domain = k.domain;
    by_domain_[domain].push_back(std::move(k));
  }
}

bool OutgoingSigner::has_keys_for(std::string_view domain) const {
  return by_domain_.find(domain) != by_domain_.end();
}

OutgoingSignature OutgoingSigner::sign(std::string_view message, std::string_view envelope_sender,
                                       std::int64_t now) const {
  OutgoingSignature out;
  if (by_domain_.empty()) return out;
  // Parsed once: the header fields are views into `message`, used for the
  // author domain and for the signatures.
  const dkim::MessageView view = dkim::parse_message(message);
  const std::vector<std::string> from = from_domains(view);
  if (from.size() > 1) {
    for (const std::string& d : from) {
      if (has_keys_for(d)) {
        out.kind = OutgoingSignature::Kind::refused;
        out.domain = d;
        out.reason = fmt::format(
            "the message has {} From: header fields; RFC 5322 allows one and it cannot be "
            "DKIM-signed for {}",
            from.size(), d);
        return out;
      }
    }
    return out;
  }
  const std::string domain = from.empty() ? address_domain(envelope_sender) : from.front();
  const auto it = by_domain_.find(domain);
  if (it == by_domain_.end()) return out;
  const dkim::SignResult r = dkim::sign(view, it->second, now);
  out.domain = domain;
  if (!r.error.empty()) {
    out.kind = OutgoingSignature::Kind::failed;
    out.reason = r.error;
    return out;
  }
  out.kind = OutgoingSignature::Kind::signed_;
  out.header_fields = r.header_fields;
  for (const dkim::SigningKey& k : it->second) {
    out.selectors += (out.selectors.empty() ? "" : ",") + k.selector;
  }
  return out;
}

}  // namespace postern::mailauth
