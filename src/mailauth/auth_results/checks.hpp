// What the SPF and DKIM checks of one message came to, in the words of
// RFC 8601 §2.7: the vocabulary shared by the DMARC evaluator (which aligns
// them with the From: domain) and the Authentication-Results builder (which
// reports them). The edge fills these from the SPF evaluator's and the DKIM
// verifier's verdicts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mailauth/dkim/verifier.hpp"
#include "mailauth/spf/evaluator.hpp"

namespace postern::mailauth {

// The SPF check of the MAIL FROM identity (RFC 7208 §2.4: for the null
// path that identity is postmaster@<HELO>).
struct SpfCheck {
  spf::Result result = spf::Result::none;
  std::string mail_from;  // the MAIL FROM address; empty for the null path
  std::string helo;       // the HELO/EHLO name
  std::string reason;     // the verdict's reason, shown as a comment

  // The domain SPF checked: the MAIL FROM domain, or the HELO name for the
  // null path. DMARC aligns this one (RFC 7489 §3.1.2, §4.1).
  std::string domain() const;
};

// One DKIM signature's result (RFC 8601 §2.7.1). `policy`: the signature
// verified but we do not accept it as covering the message; here, its l=
// leaves part of the body unsigned (RFC 6376 §8.2), so it never reads as a
// plain pass and DMARC does not count it.
enum class DkimResult { none, pass, fail, policy, neutral, temperror, permerror };
const char* dkim_result_name(DkimResult result);  // "pass", "policy", ...

struct DkimCheck {
  DkimResult result = DkimResult::permerror;
  std::string domain;    // d=, lowercased
  std::string selector;  // s=
  std::string b;         // the b= value as written (white space removed); header.b shows its start
  std::string reason;    // plain words for anything but pass
  bool testing = false;  // the key says t=y
};

// Maps the verifier's view of one signature to a DkimCheck: a verified
// signature whose l= stops short of the body becomes `policy`.
DkimCheck dkim_check(const dkim::Signature& signature, const dkim::Verdict& verdict);

}  // namespace postern::mailauth
