#include "mailauth/auth_results/checks.hpp"

#include <fmt/format.h>

#include "core/text.hpp"
#include "mailauth/author_domain.hpp"

namespace postern::mailauth {

std::string SpfCheck::domain() const {
  if (!mail_from.empty()) return address_domain(mail_from);
  std::string h = ascii_lower(helo);
  while (!h.empty() && h.back() == '.') h.pop_back();
  return h;
}

const char* dkim_result_name(DkimResult result) {
  switch (result) {
    case DkimResult::none:
      return "none";
    case DkimResult::pass:
      return "pass";
    case DkimResult::fail:
      return "fail";
    case DkimResult::policy:
      return "policy";
    case DkimResult::neutral:
      return "neutral";
    case DkimResult::temperror:
      return "temperror";
    case DkimResult::permerror:
      return "permerror";
  }
  return "permerror";
}

DkimCheck dkim_check(const dkim::Signature& signature, const dkim::Verdict& verdict) {
  DkimCheck c;
  c.domain = ascii_lower(signature.domain);
  c.selector = signature.selector;
  // The b= value as written, folding white space removed (base64 ignores it,
  // RFC 6376 §3.5), so header.b shows what a reader finds in the field.
  if (signature.b_end > signature.b_begin && signature.b_end <= signature.field.size()) {
    for (char ch : signature.field.substr(signature.b_begin, signature.b_end - signature.b_begin)) {
      if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') c.b.push_back(ch);
    }
  }
  c.testing = verdict.testing;
  c.reason = verdict.reason;
  switch (verdict.outcome) {
    case dkim::Outcome::pass:
      c.result = DkimResult::pass;
      break;
    case dkim::Outcome::fail:
      c.result = DkimResult::fail;
      break;
    case dkim::Outcome::neutral:
      c.result = DkimResult::neutral;
      break;
    case dkim::Outcome::temperror:
      c.result = DkimResult::temperror;
      break;
    case dkim::Outcome::permerror:
      c.result = DkimResult::permerror;
      break;
  }
  if (!signature.error.empty() && c.result == DkimResult::pass) {
    // A signature that did not even parse cannot have verified; a driver
    // that called verify() on it anyway must not turn it into a pass.
    c.result = DkimResult::permerror;
    c.reason = signature.error;
  }
  if (c.result == DkimResult::pass && verdict.unsigned_body_bytes > 0) {
    // RFC 6376 §8.2: content after l= is not covered; anyone could have
    // appended it. RFC 8601 §2.7.1 "policy": signed, but not acceptable.
    c.result = DkimResult::policy;
    c.reason = fmt::format("l= leaves {} body octets unsigned", verdict.unsigned_body_bytes);
  }
  return c;
}

}  // namespace postern::mailauth
