// The Authentication-Results field we write (RFC 8601) and the removal of
// forged copies that claim our authserv-id (§5).
#include <gtest/gtest.h>

#include "mailauth/auth_results/checks.hpp"
#include "mailauth/auth_results/forged.hpp"
#include "mailauth/auth_results/header.hpp"
#include "tools/auth_checks.hpp"

namespace postern::mailauth {
namespace {

SpfCheck spf_check(spf::Result r, std::string from, std::string helo = "mx.sender.example") {
  return testing::spf_check(r, std::move(from), std::move(helo));
}

DkimCheck dkim_of(DkimResult r, std::string d, std::string s, std::string b,
                  std::string reason = "") {
  return testing::dkim_check(r, std::move(d), std::move(s), std::move(b), std::move(reason));
}

dmarc::Verdict dmarc_of(dmarc::Result r, dmarc::Policy p, dmarc::Policy dis, std::string from,
                        std::string reason = "") {
  dmarc::Verdict v;
  v.result = r;
  v.policy = p;
  v.disposition = dis;
  v.from_domain = std::move(from);
  v.reason = std::move(reason);
  v.record = dmarc::Record{};
  return v;
}

TEST(AuthResultsField, AllPass) {
  AuthResults ar;
  ar.authserv_id = "mx.example.net";
  ar.spf = spf_check(spf::Result::pass, "alice@example.com");
  ar.dkim_checked = true;
  ar.dkim = {dkim_of(DkimResult::pass, "example.com", "sel1", "AbCdEfGhIjKlMnOp")};
  ar.dmarc =
      dmarc_of(dmarc::Result::pass, dmarc::Policy::reject, dmarc::Policy::none, "example.com");
  EXPECT_EQ(authentication_results_field(ar),
            "Authentication-Results: mx.example.net;\r\n"
            "\tspf=pass smtp.mailfrom=alice@example.com;\r\n"
            "\tdkim=pass header.d=example.com header.s=sel1 header.b=AbCdEfGh;\r\n"
            "\tdmarc=pass (p=reject dis=none) header.from=example.com\r\n");
}

TEST(AuthResultsField, FailuresSayWhyAndFoldAt78) {
  AuthResults ar;
  ar.authserv_id = "mx.example.net";
  SpfCheck s = spf_check(spf::Result::fail, "", "[192.0.2.1]");
  s.reason = "the client 192.0.2.1 is not allowed by -all (example (test))";
  ar.spf = s;
  ar.dkim_checked = true;
  ar.dkim = {
      dkim_of(DkimResult::fail, "example.com", "sel1", "ab/cd+ef=gh",
              "body hash did not verify (the body was changed)"),
      dkim_of(DkimResult::policy, "example.com", "sel2", "ab/cd+ef=zz",
              "l= leaves 12 body octets unsigned"),
  };
  ar.dmarc = dmarc_of(dmarc::Result::fail, dmarc::Policy::reject, dmarc::Policy::reject,
                      "example.com", "neither SPF nor DKIM passes aligned");
  const std::string field = authentication_results_field(ar);
  EXPECT_EQ(field,
            "Authentication-Results: mx.example.net;\r\n"
            "\tspf=fail (the client 192.0.2.1 is not allowed by -all \\(example\r\n"
            "\t\\(test\\)\\)) smtp.helo=\"[192.0.2.1]\";\r\n"
            "\tdkim=fail (body hash did not verify \\(the body was changed\\))\r\n"
            "\theader.d=example.com header.s=sel1 header.b=\"ab/cd+ef=g\";\r\n"
            "\tdkim=policy (l= leaves 12 body octets unsigned) header.d=example.com\r\n"
            "\theader.s=sel2 header.b=\"ab/cd+ef=z\";\r\n"
            "\tdmarc=fail (p=reject dis=reject) (neither SPF nor DKIM passes aligned)\r\n"
            "\theader.from=example.com\r\n");
  // Every line within 78 columns, a tab counted as 8.
  std::size_t start = 0;
  while (start < field.size()) {
    const std::size_t end = field.find("\r\n", start);
    std::size_t width = 0;
    for (std::size_t i = start; i < end; ++i) width += field[i] == '\t' ? 8 : 1;
    EXPECT_LE(width, 78u) << field.substr(start, end - start);
    start = end + 2;
  }
}

TEST(AuthResultsField, NothingCheckedAndNoSignatures) {
  AuthResults ar;
  ar.authserv_id = "mx.example.net";
  EXPECT_EQ(authentication_results_field(ar), "Authentication-Results: mx.example.net; none\r\n");
  ar.dkim_checked = true;
  EXPECT_EQ(authentication_results_field(ar),
            "Authentication-Results: mx.example.net;\r\n\tdkim=none\r\n");
}

TEST(AuthResultsField, SenderTextCannotBreakTheHeader) {
  AuthResults ar;
  ar.authserv_id = "mx.example.net";
  SpfCheck s = spf_check(spf::Result::permerror, "\"odd local\"@example.com");
  s.reason = "bad\r\nInjected: yes\x01";
  ar.spf = s;
  const std::string field = authentication_results_field(ar);
  EXPECT_EQ(field,
            "Authentication-Results: mx.example.net;\r\n"
            "\tspf=permerror (bad??Injected: yes?) smtp.mailfrom=example.com\r\n");
  s.reason = "RFC 7208 \u00a74.6.4: caf\u00e9";
  ar.spf = s;
  EXPECT_EQ(authentication_results_field(ar),
            "Authentication-Results: mx.example.net;\r\n"
            "\tspf=permerror (RFC 7208 section 4.6.4: caf?\?)\r\n"
            "\tsmtp.mailfrom=example.com\r\n");
}

TEST(AuthResultsField, DmarcWithoutRecordOrDomain) {
  AuthResults ar;
  ar.authserv_id = "mx.example.net";
  dmarc::Verdict v;
  v.result = dmarc::Result::none;
  v.from_domain = "example.org";
  v.reason = "no DMARC record at _dmarc.example.org";
  ar.dmarc = v;
  EXPECT_EQ(authentication_results_field(ar),
            "Authentication-Results: mx.example.net;\r\n"
            "\tdmarc=none (no DMARC record at _dmarc.example.org)\r\n"
            "\theader.from=example.org\r\n");
  v = dmarc::Verdict{};
  v.result = dmarc::Result::permerror;
  v.reason = "the message has no From: field";
  ar.dmarc = v;
  EXPECT_EQ(authentication_results_field(ar),
            "Authentication-Results: mx.example.net;\r\n"
            "\tdmarc=permerror (the message has no From: field)\r\n");
}

TEST(AuthResultsField, SampledOutShowsPct) {
  AuthResults ar;
  ar.authserv_id = "mx.example.net";
  dmarc::Verdict v = dmarc_of(dmarc::Result::fail, dmarc::Policy::reject, dmarc::Policy::quarantine,
                              "example.com", "x");
  v.sampled_out = true;
  v.record->percent = 20;
  ar.dmarc = v;
  EXPECT_EQ(authentication_results_field(ar),
            "Authentication-Results: mx.example.net;\r\n"
            "\tdmarc=fail (p=reject dis=quarantine pct=20) (x)\r\n"
            "\theader.from=example.com\r\n");
}

TEST(DkimCheck, LimitedBodyIsPolicyNotPass) {
  dkim::Signature sig;
  sig.domain = "Example.COM";
  sig.selector = "s1";
  sig.field = "DKIM-Signature: v=1; b=ab cd\r\n\tef;";
  sig.b_begin = sig.field.find("ab");
  sig.b_end = sig.field.find(';', sig.b_begin);
  dkim::Verdict v;
  v.outcome = dkim::Outcome::pass;
  DkimCheck c = dkim_check(sig, v);
  EXPECT_EQ(c.result, DkimResult::pass);
  EXPECT_EQ(c.domain, "example.com");
  EXPECT_EQ(c.b, "abcdef");
  v.unsigned_body_bytes = 12;
  c = dkim_check(sig, v);
  EXPECT_EQ(c.result, DkimResult::policy);
  EXPECT_EQ(c.reason, "l= leaves 12 body octets unsigned");
  v.outcome = dkim::Outcome::fail;
  v.reason = "body hash did not verify";
  c = dkim_check(sig, v);
  EXPECT_EQ(c.result, DkimResult::fail);
}

TEST(SpfCheckDomain, MailFromOrHelo) {
  EXPECT_EQ(spf_check(spf::Result::pass, "a@Mail.Example.com").domain(), "mail.example.com");
  EXPECT_EQ(spf_check(spf::Result::pass, "", "MX.example.org.").domain(), "mx.example.org");
}

// --- forged copies ---

TEST(AuthservId, SkipsCommentsAndUnquotes) {
  EXPECT_EQ(authserv_id_of(" mx.example.net; spf=pass"), "mx.example.net");
  EXPECT_EQ(authserv_id_of("mx.example.net 1; none"), "mx.example.net");
  EXPECT_EQ(authserv_id_of(" (a (nested) comment)\r\n\tmx.example.net;"), "mx.example.net");
  EXPECT_EQ(authserv_id_of("mx.example.net(comment);"), "mx.example.net");
  EXPECT_EQ(authserv_id_of(" \"mx.example.net\" ; none"), "mx.example.net");
  EXPECT_EQ(authserv_id_of(" \"mx.ex\\\"ample\";"), "mx.ex\"ample");
  EXPECT_EQ(authserv_id_of("mx.example.net;"), "mx.example.net");
  EXPECT_EQ(authserv_id_of(""), std::nullopt);
  EXPECT_EQ(authserv_id_of(" (only a comment"), std::nullopt);
  EXPECT_EQ(authserv_id_of(" \"unterminated"), std::nullopt);
  EXPECT_EQ(authserv_id_of(" ; spf=pass"), std::nullopt);
}

TEST(ForgedAuthResults, RemovesOnlyOursFromTheHeader) {
  const std::string message =
      "Received: from a\r\n"
      "Authentication-Results: MX.Example.NET; spf=pass\r\n"
      "Authentication-Results: other.example; dkim=pass\r\n"
      "authentication-results:\r\n (forged) mx.example.net.;\r\n\tdmarc=pass\r\n"
      "Authentication-Results: mx.example.net.evil; none\r\n"
      "Authentication-Results: \"mx.example.net\"; none\r\n"
      "Subject: hi\r\n"
      "\r\n"
      "Authentication-Results: mx.example.net; in the body, kept\r\n";
  const auto ranges = forged_auth_results(message, "mx.example.net");
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(message.substr(ranges[0].begin, ranges[0].end - ranges[0].begin),
            "Authentication-Results: MX.Example.NET; spf=pass\r\n");
  EXPECT_EQ(message.substr(ranges[1].begin, ranges[1].end - ranges[1].begin),
            "authentication-results:\r\n (forged) mx.example.net.;\r\n\tdmarc=pass\r\n");

  const FilteredHeader f = remove_forged_auth_results(message, "mx.example.net");
  EXPECT_EQ(f.removed, 3u);
  EXPECT_EQ(f.header,
            "Received: from a\r\n"
            "Authentication-Results: other.example; dkim=pass\r\n"
            "Authentication-Results: mx.example.net.evil; none\r\n"
            "Subject: hi\r\n");
  EXPECT_EQ(message.substr(f.body_offset),
            "\r\nAuthentication-Results: mx.example.net; in the body, kept\r\n");
}

TEST(ForgedAuthResults, NothingToRemoveKeepsTheMessage) {
  const char* messages[] = {
      "Subject: x\r\n\r\nbody\r\n", "Subject: x\r\n", "Subject: x", "\r\nbody only\r\n", "",
      "Subject: x\n\nbare LF\n",
  };
  for (const std::string message : messages) {
    const FilteredHeader f = remove_forged_auth_results(message, "mx.example.net");
    EXPECT_EQ(f.removed, 0u);
    EXPECT_EQ(f.header + message.substr(f.body_offset), message);
  }
}

TEST(ForgedAuthResults, LastFieldWithoutBody) {
  const std::string message = "Subject: x\r\nAuthentication-Results: mx.example.net; none";
  const FilteredHeader f = remove_forged_auth_results(message, "mx.example.net");
  EXPECT_EQ(f.removed, 1u);
  EXPECT_EQ(f.header, "Subject: x\r\n");
  EXPECT_EQ(f.body_offset, message.size());
}

}  // namespace
}  // namespace postern::mailauth
