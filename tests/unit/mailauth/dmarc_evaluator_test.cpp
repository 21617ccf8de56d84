// DMARC evaluation (RFC 7489) against tables of DNS answers: record
// discovery, the organizational domain from Debian's Public Suffix List,
// alignment, p/sp/pct, several or no author domains, and the sans-I/O
// question order.
#include "mailauth/dmarc/evaluator.hpp"

#include <gtest/gtest.h>

#include "unit/mailauth/spf_zone.hpp"

namespace postern::mailauth::dmarc {
namespace {

using test::Zone;

SpfCheck spf(spf::Result result, std::string mail_from, std::string helo = "mx.sender.example") {
  SpfCheck c;
  c.result = result;
  c.mail_from = std::move(mail_from);
  c.helo = std::move(helo);
  return c;
}

DkimCheck dkim(DkimResult result, std::string domain) {
  DkimCheck c;
  c.result = result;
  c.domain = std::move(domain);
  c.selector = "sel";
  return c;
}

Request request(std::vector<std::string> from, SpfCheck s, std::vector<DkimCheck> d = {},
                int sample = 0) {
  Request r;
  r.author_domains = std::move(from);
  r.spf = std::move(s);
  r.dkim = std::move(d);
  r.sample = sample;
  return r;
}

Verdict run(Zone& zone, const Request& r) {
  return evaluate(r, [&zone](const Question& q) { return zone(q); });
}

TEST(OrganizationalDomain, ComesFromThePublicSuffixList) {
  const auto& psl = PublicSuffixList::system();
  EXPECT_FALSE(psl.source().empty());
  EXPECT_EQ(psl.organizational_domain("example.com"), "example.com");
  EXPECT_EQ(psl.organizational_domain("mail.Example.COM."), "example.com");
  EXPECT_EQ(psl.organizational_domain("a.b.c.example.com"), "example.com");
  EXPECT_EQ(psl.organizational_domain("mail.example.co.uk"), "example.co.uk");
  EXPECT_EQ(psl.organizational_domain("x.y.z.kawasaki.jp"), "y.z.kawasaki.jp");  // *.kawasaki.jp
  EXPECT_EQ(psl.organizational_domain("a.city.kawasaki.jp"),
            "city.kawasaki.jp");                                             // !city.kawasaki.jp
  EXPECT_EQ(psl.organizational_domain("sub.example.test"), "example.test");  // implicit "*" rule
  // A public suffix is its own organizational domain.
  EXPECT_EQ(psl.organizational_domain("co.uk"), "co.uk");
  EXPECT_EQ(psl.organizational_domain("com"), "com");
  EXPECT_EQ(organizational_domain("www.example.org"), "example.org");
}

TEST(DmarcAlignment, StrictAndRelaxed) {
  const auto& psl = PublicSuffixList::system();
  EXPECT_TRUE(aligned("example.com", "EXAMPLE.com", Alignment::strict, psl));
  EXPECT_FALSE(aligned("mail.example.com", "example.com", Alignment::strict, psl));
  EXPECT_TRUE(aligned("mail.example.com", "example.com", Alignment::relaxed, psl));
  EXPECT_TRUE(aligned("a.example.com", "b.example.com", Alignment::relaxed, psl));
  EXPECT_FALSE(aligned("example.net", "example.com", Alignment::relaxed, psl));
  // Two registrations under one public suffix are not aligned.
  EXPECT_FALSE(aligned("a.co.uk", "b.co.uk", Alignment::relaxed, psl));
  EXPECT_FALSE(aligned("", "example.com", Alignment::relaxed, psl));
}

struct Case {
  const char* name;
  std::vector<std::string> from;
  SpfCheck spf;
  std::vector<DkimCheck> dkim;
  int sample;
  Result result;
  Policy disposition;
  Policy policy;
};

// One zone, many messages.
TEST(DmarcEvaluator, ResultsAndDispositions) {
  Zone zone;
  zone.txt("_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine")
      .txt("_dmarc.strict.example", "v=DMARC1; p=reject; adkim=s; aspf=s")
      .txt("_dmarc.quarantine.example", "v=DMARC1; p=quarantine")
      .txt("_dmarc.half.example", "v=DMARC1; p=reject; pct=50")
      .txt("_dmarc.zero.example", "v=DMARC1; p=reject; pct=0")
      .txt("_dmarc.monitor.example", "v=DMARC1; p=none; rua=mailto:d@monitor.example")
      .txt("_dmarc.own.example.com", "v=DMARC1; p=none")
      .txt("_dmarc.nosp.example", "v=DMARC1; p=quarantine");
  const Case cases[] = {
      {"spf aligned exact",
       {"example.com"},
       spf(spf::Result::pass, "a@example.com"),
       {},
       0,
       Result::pass,
       Policy::none,
       Policy::reject},
      {"spf aligned relaxed",
       {"example.com"},
       spf(spf::Result::pass, "bounce@mail.example.com"),
       {},
       0,
       Result::pass,
       Policy::none,
       Policy::reject},
      {"spf pass unaligned",
       {"example.com"},
       spf(spf::Result::pass, "a@example.net"),
       {},
       0,
       Result::fail,
       Policy::reject,
       Policy::reject},
      {"spf aligned but softfail",
       {"example.com"},
       spf(spf::Result::softfail, "a@example.com"),
       {},
       0,
       Result::fail,
       Policy::reject,
       Policy::reject},
      {"dkim aligned",
       {"example.com"},
       spf(spf::Result::fail, "a@example.net"),
       {dkim(DkimResult::pass, "example.com")},
       0,
       Result::pass,
       Policy::none,
       Policy::reject},
      {"dkim aligned relaxed",
       {"example.com"},
       spf(spf::Result::none, "a@example.net"),
       {dkim(DkimResult::pass, "news.example.com")},
       0,
       Result::pass,
       Policy::none,
       Policy::reject},
      {"dkim pass unaligned",
       {"example.com"},
       spf(spf::Result::none, "a@example.net"),
       {dkim(DkimResult::pass, "example.net")},
       0,
       Result::fail,
       Policy::reject,
       Policy::reject},
      {"dkim aligned but failed",
       {"example.com"},
       spf(spf::Result::none, ""),
       {dkim(DkimResult::fail, "example.com")},
       0,
       Result::fail,
       Policy::reject,
       Policy::reject},
      // l= leaving content unsigned: reported as policy, not counted.
      {"dkim policy (l=) not counted",
       {"example.com"},
       spf(spf::Result::none, ""),
       {dkim(DkimResult::policy, "example.com")},
       0,
       Result::fail,
       Policy::reject,
       Policy::reject},
      {"second signature aligned",
       {"example.com"},
       spf(spf::Result::none, ""),
       {dkim(DkimResult::fail, "example.com"), dkim(DkimResult::pass, "example.com")},
       0,
       Result::pass,
       Policy::none,
       Policy::reject},
      // Subdomain without its own record: the organizational domain's sp=.
      {"subdomain uses sp",
       {"shop.example.com"},
       spf(spf::Result::fail, "a@example.net"),
       {},
       0,
       Result::fail,
       Policy::quarantine,
       Policy::quarantine},
      {"subdomain aligned relaxed",
       {"shop.example.com"},
       spf(spf::Result::pass, "a@example.com"),
       {},
       0,
       Result::pass,
       Policy::none,
       Policy::quarantine},
      {"subdomain without sp uses p",
       {"a.nosp.example"},
       spf(spf::Result::fail, ""),
       {},
       0,
       Result::fail,
       Policy::quarantine,
       Policy::quarantine},
      // A subdomain with its own record: that record's p=, not sp=.
      {"subdomain with own record",
       {"own.example.com"},
       spf(spf::Result::fail, ""),
       {},
       0,
       Result::fail,
       Policy::none,
       Policy::none},
      {"strict dkim exact",
       {"strict.example"},
       spf(spf::Result::none, ""),
       {dkim(DkimResult::pass, "strict.example")},
       0,
       Result::pass,
       Policy::none,
       Policy::reject},
      {"strict dkim subdomain",
       {"strict.example"},
       spf(spf::Result::none, ""),
       {dkim(DkimResult::pass, "mail.strict.example")},
       0,
       Result::fail,
       Policy::reject,
       Policy::reject},
      {"strict spf subdomain",
       {"strict.example"},
       spf(spf::Result::pass, "b@bounce.strict.example"),
       {},
       0,
       Result::fail,
       Policy::reject,
       Policy::reject},
      {"quarantine",
       {"quarantine.example"},
       spf(spf::Result::fail, ""),
       {},
       0,
       Result::fail,
       Policy::quarantine,
       Policy::quarantine},
      // pct=: sample < pct applies the policy, otherwise one step milder (§6.6.4).
      {"pct=50 sample 49",
       {"half.example"},
       spf(spf::Result::fail, ""),
       {},
       49,
       Result::fail,
       Policy::reject,
       Policy::reject},
      {"pct=50 sample 50",
       {"half.example"},
       spf(spf::Result::fail, ""),
       {},
       50,
       Result::fail,
       Policy::quarantine,
       Policy::reject},
      {"pct=0",
       {"zero.example"},
       spf(spf::Result::fail, ""),
       {},
       0,
       Result::fail,
       Policy::quarantine,
       Policy::reject},
      {"p=none fails without action",
       {"monitor.example"},
       spf(spf::Result::fail, ""),
       {},
       0,
       Result::fail,
       Policy::none,
       Policy::none},
      {"no record anywhere",
       {"norecord.example"},
       spf(spf::Result::fail, ""),
       {},
       0,
       Result::none,
       Policy::none,
       Policy::none},
      {"null sender: helo identity aligns",
       {"example.com"},
       spf(spf::Result::pass, "", "mx1.example.com"),
       {},
       0,
       Result::pass,
       Policy::none,
       Policy::reject},
      {"From domain case and dot",
       {"EXAMPLE.com."},
       spf(spf::Result::pass, "a@example.com"),
       {},
       0,
       Result::pass,
       Policy::none,
       Policy::reject},
  };
  for (const Case& c : cases) {
    const Verdict v = run(zone, request(c.from, c.spf, c.dkim, c.sample));
    EXPECT_EQ(v.result, c.result) << c.name << ": " << v.reason;
    EXPECT_EQ(v.disposition, c.disposition) << c.name << ": " << v.reason;
    EXPECT_EQ(v.policy, c.policy) << c.name << ": " << v.reason;
  }
}

TEST(DmarcEvaluator, SaysWhatDecided) {
  Zone zone;
  zone.txt("_dmarc.example.com", "v=DMARC1; p=reject");
  Verdict v = run(zone, request({"mail.example.com"}, spf(spf::Result::pass, "a@example.com"),
                                {dkim(DkimResult::pass, "example.com")}));
  EXPECT_EQ(v.result, Result::pass);
  EXPECT_TRUE(v.spf_aligned);
  EXPECT_EQ(v.dkim_domain, "example.com");
  EXPECT_EQ(v.from_domain, "mail.example.com");
  EXPECT_EQ(v.record_domain, "example.com");
  ASSERT_TRUE(v.record);
  EXPECT_EQ(v.reason, "SPF and DKIM both pass aligned");

  v = run(zone, request({"example.com"}, spf(spf::Result::fail, "a@example.org"),
                        {dkim(DkimResult::pass, "example.net")}));
  EXPECT_EQ(v.result, Result::fail);
  EXPECT_FALSE(v.spf_aligned);
  EXPECT_EQ(v.dkim_domain, "");
  EXPECT_EQ(v.reason,
            "SPF fail for example.org, no aligned DKIM pass: nothing passes aligned with "
            "example.com");
  v = run(zone, request({"www.example.com"}, spf(spf::Result::none, "")));
  EXPECT_EQ(v.reason,
            "SPF none for mx.sender.example, no DKIM signature: nothing passes aligned with "
            "www.example.com; sp= of example.com applies");
}

// §6.6.3: the author domain first, then the organizational domain; never
// more; the answers arrive one at a time.
TEST(DmarcEvaluator, AsksOneQuestionAtATime) {
  Evaluator e(request({"a.b.example.com"}, spf(spf::Result::fail, "")));
  auto q = e.next_question();
  ASSERT_TRUE(q);
  EXPECT_EQ(q->name, "_dmarc.a.b.example.com");
  EXPECT_EQ(q->type, RrType::txt);
  // An answer to another question is ignored.
  e.answer({"_dmarc.other.example", RrType::txt}, {AnswerStatus::ok, {"v=DMARC1; p=none"}});
  ASSERT_EQ(e.next_question(), q);
  e.answer(*q, {AnswerStatus::nxdomain, {}});
  q = e.next_question();
  ASSERT_TRUE(q);
  EXPECT_EQ(q->name, "_dmarc.example.com");  // the organizational domain, not b.example.com
  e.answer(*q, {AnswerStatus::ok, {"v=spf1 -all", "v=DMARC1; p=reject; sp=none"}});
  EXPECT_FALSE(e.next_question());
  EXPECT_EQ(e.verdict().result, Result::fail);
  EXPECT_EQ(e.verdict().policy, Policy::none);  // sp=none for the subdomain
}

TEST(DmarcEvaluator, DiscoveryEdgeCases) {
  Zone zone;
  zone.txt("_dmarc.example.com", "v=DMARC1; p=reject")
      // Non-DMARC TXT at the author domain: discarded, so the
      // organizational domain's record applies (§6.6.3 steps 2-3).
      .txt("_dmarc.other.example.com", "some verification token")
      // Two records: no policy at all, and no fallback (step 5).
      .txt("_dmarc.two.example", "v=DMARC1; p=reject")
      .txt("_dmarc.two.example", "v=DMARC1; p=none")
      .txt("_dmarc.sub.two.example", "v=DMARC1; p=reject")
      .txt("_dmarc.sub.two.example", "v=DMARC1; p=quarantine")
      .txt("_dmarc.bad.example", "v=DMARC1; p=reject; pct=200")
      .txt("_dmarc.lower.example", "v=dmarc1; p=reject")
      .broken("_dmarc.flaky.example")
      .broken("_dmarc.example.net");

  Verdict v = run(zone, request({"other.example.com"}, spf(spf::Result::fail, "")));
  EXPECT_EQ(v.result, Result::fail);
  EXPECT_EQ(v.policy, Policy::reject);
  EXPECT_EQ(v.record_domain, "example.com");

  v = run(zone, request({"two.example"}, spf(spf::Result::fail, "")));
  EXPECT_EQ(v.result, Result::none);
  EXPECT_EQ(v.disposition, Policy::none);
  EXPECT_NE(v.reason.find("several DMARC records at _dmarc.two.example"), std::string::npos);

  zone.asked.clear();
  v = run(zone, request({"sub.two.example"}, spf(spf::Result::fail, "")));
  EXPECT_EQ(v.result, Result::none);
  EXPECT_EQ(zone.asked.size(), 1u);  // no fallback to the organizational domain

  v = run(zone, request({"bad.example"}, spf(spf::Result::fail, "")));
  EXPECT_EQ(v.result, Result::permerror);
  EXPECT_EQ(v.disposition, Policy::none);
  EXPECT_NE(v.reason.find("pct=200"), std::string::npos) << v.reason;

  v = run(zone, request({"lower.example"}, spf(spf::Result::fail, "")));
  EXPECT_EQ(v.result, Result::none);  // not a DMARC record: discarded

  v = run(zone, request({"flaky.example"}, spf(spf::Result::fail, "")));
  EXPECT_EQ(v.result, Result::temperror);
  EXPECT_EQ(v.disposition, Policy::none);

  // A temporary failure at the organizational domain is one too.
  v = run(zone, request({"www.example.net"}, spf(spf::Result::fail, "")));
  EXPECT_EQ(v.result, Result::temperror);

  // A temporary failure at the author domain does not fall through to the
  // organizational domain, whose record might not be the one that applies.
  zone.broken("_dmarc.mail.example.com");
  zone.asked.clear();
  v = run(zone, request({"mail.example.com"}, spf(spf::Result::fail, "")));
  EXPECT_EQ(v.result, Result::temperror);
  EXPECT_EQ(zone.asked.size(), 1u);

  // p= misspelt but rua= valid: p=none (§6.6.3 step 6), a fail without action.
  zone.txt("_dmarc.typo.example", "v=DMARC1; p=rejet; rua=mailto:d@typo.example");
  v = run(zone, request({"typo.example"}, spf(spf::Result::fail, "")));
  EXPECT_EQ(v.result, Result::fail);
  EXPECT_EQ(v.disposition, Policy::none);
  ASSERT_TRUE(v.record);
  EXPECT_TRUE(v.record->policy_defaulted);

  // The author domain is the organizational domain: one question only.
  zone.asked.clear();
  v = run(zone, request({"example.org"}, spf(spf::Result::fail, "")));
  EXPECT_EQ(v.result, Result::none);
  EXPECT_EQ(zone.asked.size(), 1u);
}

// A DNS error on an aligned identifier must not become a fail (and a 550).
TEST(DmarcEvaluator, AlignedTemperrorIsTemperror) {
  Zone zone;
  zone.txt("_dmarc.example.com", "v=DMARC1; p=reject");
  Verdict v = run(zone, request({"example.com"}, spf(spf::Result::temperror, "a@example.com")));
  EXPECT_EQ(v.result, Result::temperror);
  EXPECT_EQ(v.disposition, Policy::none);
  v = run(zone, request({"example.com"}, spf(spf::Result::fail, "a@example.com"),
                        {dkim(DkimResult::temperror, "example.com")}));
  EXPECT_EQ(v.result, Result::temperror);
  // Unaligned trouble changes nothing.
  v = run(zone, request({"example.com"}, spf(spf::Result::temperror, "a@example.net"),
                        {dkim(DkimResult::temperror, "example.net")}));
  EXPECT_EQ(v.result, Result::fail);
  // And a pass is a pass whatever else failed.
  v = run(zone, request({"example.com"}, spf(spf::Result::temperror, "a@example.com"),
                        {dkim(DkimResult::pass, "example.com")}));
  EXPECT_EQ(v.result, Result::pass);
}

// §6.6.1: several author domains are each checked; the strictest failing
// policy applies; a pass for one never vouches for another.
TEST(DmarcEvaluator, SeveralAuthorDomains) {
  Zone zone;
  zone.txt("_dmarc.bank.example", "v=DMARC1; p=reject")
      .txt("_dmarc.shop.example", "v=DMARC1; p=quarantine")
      .txt("_dmarc.attacker.example", "v=DMARC1; p=none");
  const auto dk = [](const char* d) { return dkim(DkimResult::pass, d); };

  Verdict v = run(zone, request({"attacker.example", "bank.example"}, spf(spf::Result::none, ""),
                                {dk("attacker.example")}));
  EXPECT_EQ(v.result, Result::fail);
  EXPECT_EQ(v.disposition, Policy::reject);
  EXPECT_EQ(v.from_domain, "bank.example");
  EXPECT_NE(v.reason.find("names 2 domains (attacker.example, bank.example)"), std::string::npos)
      << v.reason;

  v = run(zone, request({"shop.example", "bank.example"}, spf(spf::Result::none, "")));
  EXPECT_EQ(v.result, Result::fail);
  EXPECT_EQ(v.disposition, Policy::reject);  // the stricter of the two failures

  // One passes, the other has no record: not a pass.
  v = run(zone, request({"attacker.example", "nodmarc.example"}, spf(spf::Result::none, ""),
                        {dk("attacker.example")}));
  EXPECT_EQ(v.result, Result::none);
  EXPECT_EQ(v.from_domain, "nodmarc.example");

  // Every domain passes: pass.
  v = run(zone, request({"bank.example", "shop.example"}, spf(spf::Result::none, ""),
                        {dk("bank.example"), dk("shop.example")}));
  EXPECT_EQ(v.result, Result::pass);

  // The same domain twice (two From: fields, or two mailboxes) is one domain.
  zone.asked.clear();
  v = run(zone, request({"bank.example", "BANK.example"}, spf(spf::Result::none, ""),
                        {dk("bank.example")}));
  EXPECT_EQ(v.result, Result::pass);
  EXPECT_EQ(zone.asked.size(), 1u);
}

TEST(DmarcEvaluator, NoUsableAuthorDomainIsNeverAPass) {
  Zone zone;
  zone.txt("_dmarc.example.com", "v=DMARC1; p=reject");
  Verdict v = run(zone, request({}, spf(spf::Result::pass, "a@example.com")));
  EXPECT_EQ(v.result, Result::permerror);
  EXPECT_TRUE(v.from_unusable);
  EXPECT_EQ(v.reason, "the message has no From: field (RFC 5322 §3.6 requires one)");

  v = run(zone, request({""}, spf(spf::Result::pass, "a@example.com")));
  EXPECT_EQ(v.result, Result::permerror);
  EXPECT_EQ(v.reason, "the From: field has no address with a domain");

  // A passing domain next to an address without one.
  v = run(zone, request({"example.com", ""}, spf(spf::Result::pass, "a@example.com")));
  EXPECT_EQ(v.result, Result::permerror);
  EXPECT_TRUE(v.from_unusable);

  // But a failure with a policy still shows through.
  v = run(zone, request({"example.com", ""}, spf(spf::Result::fail, "a@example.com")));
  EXPECT_EQ(v.result, Result::fail);
  EXPECT_EQ(v.disposition, Policy::reject);

  zone.asked.clear();
  v = run(zone, request({"[192.0.2.1]"}, spf(spf::Result::pass, "a@example.com")));
  EXPECT_EQ(v.result, Result::permerror);
  EXPECT_TRUE(zone.asked.empty());

  std::vector<std::string> many;
  for (int i = 0; i < 11; ++i) many.push_back("d" + std::to_string(i) + ".example");
  zone.asked.clear();
  v = run(zone, request(many, spf(spf::Result::pass, "a@example.com")));
  EXPECT_EQ(v.result, Result::permerror);
  EXPECT_TRUE(zone.asked.empty());
}

TEST(DmarcAuthorDomains, EveryMailboxOfEveryFromField) {
  EXPECT_EQ(
      author_domains("From: a@Example.COM\r\nTo: b@x.example\r\n\r\nFrom: c@body.example\r\n"),
      (std::vector<std::string>{"example.com"}));
  EXPECT_EQ(author_domains("From: \"Doe, John\" <j@a.example>, k@b.example (Kay, x@c.example)\r\n"
                           "\r\n"),
            (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(author_domains("From: a@one.example\r\nfrom: b@two.example\r\n\r\n"),
            (std::vector<std::string>{"one.example", "two.example"}));
  EXPECT_EQ(author_domains("From: Team: a@one.example, b@two.example;\r\n\r\n"),
            (std::vector<std::string>{"one.example", "two.example"}));
  EXPECT_EQ(author_domains("From: <@relay.example,@r2.example:u@real.example>\r\n\r\n"),
            (std::vector<std::string>{"real.example"}));
  EXPECT_EQ(author_domains("From: undisclosed-recipients:;\r\n\r\n"),
            (std::vector<std::string>{""}));
  EXPECT_EQ(author_domains("From: alice\r\n\r\n"), (std::vector<std::string>{""}));
  EXPECT_EQ(author_domains("From: a@x.example,\r\n b@y.example\r\n\r\n"),
            (std::vector<std::string>{"x.example", "y.example"}));
  EXPECT_EQ(author_domains("Subject: none\r\n\r\n"), (std::vector<std::string>{}));
}

}  // namespace
}  // namespace postern::mailauth::dmarc
