// Prints the Authentication-Results fields postern writes for a set of
// fixed scenarios, each followed by a line "--", for check_authres.py to
// parse with python3-authres (a second, independent reading of RFC 8601).
// The DMARC verdicts come from the real evaluator over an in-memory zone.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "mailauth/auth_results/header.hpp"
#include "mailauth/dmarc/evaluator.hpp"
// Relative: this tool is built without the tests/ include path.
#include "../tools/auth_checks.hpp"

using namespace postern::mailauth;

namespace {

Answer zone(const Question& q) {
  static const std::map<std::string, std::string> records = {
      {"_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine"},
      {"_dmarc.quarantine.example", "v=DMARC1; p=quarantine; pct=0"},
  };
  const auto it = records.find(q.name);
  if (it == records.end()) return {AnswerStatus::nxdomain, {}};
  return {AnswerStatus::ok, {it->second}};
}

SpfCheck spf_check(spf::Result r, std::string from, std::string helo) {
  return postern::testing::spf_check(
      r, std::move(from), std::move(helo),
      r != spf::Result::pass ? "192.0.2.1 is not allowed (matched -all)" : "");
}

using postern::testing::dkim_check;

void print(const std::string& from_header, AuthResults ar) {
  dmarc::Request r;
  r.author_domains = dmarc::author_domains(from_header);
  r.spf = *ar.spf;
  r.dkim = ar.dkim;
  ar.dmarc = dmarc::evaluate(r, zone);
  std::fputs(authentication_results_field(ar).c_str(), stdout);
  std::fputs("--\n", stdout);
}

}  // namespace

int main() {
  const std::string id = "mx.postern.test";
  // 1: everything passes and aligns.
  print("From: Alice <alice@example.com>\r\n\r\n",
        {id,
         spf_check(spf::Result::pass, "alice@example.com", "mail.example.com"),
         true,
         {dkim_check(DkimResult::pass, "example.com", "sel1", "dGVzdHNpZ25hdHVyZQ==")},
         {}});
  // 2: SPF fails for the null sender (HELO identity), two signatures (one
  // bad, one l=-limited), DMARC fails with p=reject.
  print("From: <ceo@example.com>\r\n\r\n",
        {id,
         spf_check(spf::Result::fail, "", "[192.0.2.1]"),
         true,
         {dkim_check(DkimResult::fail, "example.com", "sel1", "aGVsbG8/d29ybGQ+",
                     "body hash did not verify (the body was changed)"),
          dkim_check(DkimResult::policy, "example.com", "sel2", "aGVsbG8/d29yxxxx",
                     "l= leaves 42 body octets unsigned")},
         {}});
  // 3: a subdomain, sp=quarantine; no signature.
  print("From: shop@news.example.com\r\n\r\n",
        {id,
         spf_check(spf::Result::softfail, "bounce@other.example", "mx.other.example"),
         true,
         {},
         {}});
  // 4: pct=0 spares a quarantine; no DMARC record for the second case.
  print("From: q@quarantine.example\r\n\r\n",
        {id, spf_check(spf::Result::neutral, "q@quarantine.example", "h"), true, {}, {}});
  print("From: x@nodmarc.example\r\n\r\n",
        {id, spf_check(spf::Result::none, "x@nodmarc.example", "h"), true, {}, {}});
  // 6: no From: at all.
  print("Subject: none\r\n\r\n",
        {id, spf_check(spf::Result::pass, "a@example.com", "h"), false, {}, {}});
  return 0;
}
