// The Authentication-Results header field (RFC 8601) we prepend to an
// inbound message: one field, authserv-id = our hostname, one resinfo per
// method (spf, each DKIM signature, dmarc), folded at 78 columns (RFC 5322
// §2.1.1), ending in CRLF.
//
//   Authentication-Results: mx.example.net;
//   	spf=pass smtp.mailfrom=alice@example.com;
//   	dkim=pass header.d=example.com header.s=sel header.b="AbCd/123";
//   	dmarc=pass (p=reject dis=none) header.from=example.com
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mailauth/auth_results/checks.hpp"
#include "mailauth/dmarc/evaluator.hpp"

namespace postern::mailauth {

struct AuthResults {
  std::string authserv_id;      // our hostname
  std::optional<SpfCheck> spf;  // absent: SPF not checked, no spf entry
  bool dkim_checked = false;    // true and `dkim` empty: dkim=none
  std::vector<DkimCheck> dkim;  // one entry per signature, top first
  std::optional<dmarc::Verdict> dmarc;
};

// The whole field, "Authentication-Results: ...\r\n". Nothing checked:
// "Authentication-Results: <id>; none" (RFC 8601 §2.2).
std::string authentication_results_field(const AuthResults& results);

// The header.b value shown for a b= (RFC 6008 §4: its first 8 characters,
// which are enough to tell signatures apart).
inline constexpr std::size_t kHeaderBPrefix = 8;

}  // namespace postern::mailauth
