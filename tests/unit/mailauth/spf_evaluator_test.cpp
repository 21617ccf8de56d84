// check_host() against tables of DNS answers: each mechanism and modifier,
// the lookup limits, errors, and the sans-I/O question order.
#include "mailauth/spf/evaluator.hpp"

#include <gtest/gtest.h>

#include "unit/mailauth/spf_zone.hpp"

namespace postern::mailauth::spf {
namespace {

using test::Zone;

Verdict check(Zone& zone, const std::string& ip, const std::string& sender = "a@example.com") {
  Request r;
  r.ip = ip;
  r.sender = sender;
  r.helo = "client.example.org";
  return evaluate(r, [&zone](const Question& q) { return zone(q); });
}

struct RecordCase {
  const char* record;
  const char* ip;
  Result expected;
};

// One record for example.com, many client addresses.
TEST(SpfEvaluator, MechanismsMatchTheirAddresses) {
  const RecordCase cases[] = {
      {"v=spf1 ip4:192.0.2.1 -all", "192.0.2.1", Result::pass},
      {"v=spf1 ip4:192.0.2.1 -all", "192.0.2.2", Result::fail},
      {"v=spf1 ip4:192.0.2.0/24 -all", "192.0.2.77", Result::pass},
      {"v=spf1 ip4:192.0.2.0/25 -all", "192.0.2.200", Result::fail},
      {"v=spf1 ip4:192.0.2.0/24 ~all", "198.51.100.1", Result::softfail},
      {"v=spf1 ip4:192.0.2.0/24 ?all", "198.51.100.1", Result::neutral},
      {"v=spf1 ip4:192.0.2.0/24", "198.51.100.1", Result::neutral},
      {"v=spf1 -ip4:192.0.2.1 +all", "192.0.2.1", Result::fail},
      {"V=SPF1 IP4:192.0.2.1 -ALL", "192.0.2.1", Result::pass},
      {"v=spf1 ip6:2001:db8::/32 -all", "2001:db8:1::5", Result::pass},
      {"v=spf1 ip6:2001:db8::/32 -all", "2001:db9::5", Result::fail},
      {"v=spf1 ip4:192.0.2.1 -all", "2001:db8::1", Result::fail},
      {"v=spf1 ip6:2001:db8::1 -all", "192.0.2.1", Result::fail},
      // An IPv4-mapped client is evaluated as IPv4 (RFC 7208 §5).
      {"v=spf1 ip4:192.0.2.1 -all", "::ffff:192.0.2.1", Result::pass},
      {"v=spf1 a -all", "192.0.2.10", Result::pass},
      {"v=spf1 a -all", "192.0.2.11", Result::fail},
      {"v=spf1 a/24 -all", "192.0.2.11", Result::pass},
      {"v=spf1 a -all", "2001:db8::10", Result::pass},
      {"v=spf1 a//64 -all", "2001:db8::99", Result::pass},
      {"v=spf1 a/24//64 -all", "2001:db8:0:1::99", Result::fail},
      {"v=spf1 a:other.example.net -all", "198.51.100.20", Result::pass},
      {"v=spf1 mx -all", "192.0.2.25", Result::pass},
      {"v=spf1 mx -all", "192.0.2.26", Result::pass},
      {"v=spf1 mx -all", "192.0.2.10", Result::fail},
      {"v=spf1 mx:other.example.net -all", "198.51.100.25", Result::pass},
      {"v=spf1 exists:%{i}.allow.example.com -all", "192.0.2.55", Result::pass},
      {"v=spf1 exists:%{i}.allow.example.com -all", "192.0.2.56", Result::fail},
      {"v=spf1 ptr -all", "192.0.2.80", Result::pass},
      {"v=spf1 ptr -all", "192.0.2.81", Result::fail},  // PTR not confirmed by A
      {"v=spf1 ptr:example.net -all", "192.0.2.80", Result::fail},
      {"v=spf1 include:_spf.example.net -all", "198.51.100.7", Result::pass},
      {"v=spf1 include:_spf.example.net -all", "198.51.100.8", Result::fail},
      {"v=spf1 include:_spf.example.net ?all", "198.51.100.8", Result::neutral},
      {"v=spf1 redirect=_spf.example.net", "198.51.100.7", Result::pass},
      {"v=spf1 redirect=_spf.example.net", "198.51.100.8", Result::fail},
      // redirect is ignored when the record has "all" (RFC 7208 §6.1).
      {"v=spf1 ?all redirect=_spf.example.net", "198.51.100.7", Result::neutral},
      {"v=spf1 ip4:192.0.2.1 unknown-mod=x -all", "192.0.2.1", Result::pass},
  };
  for (const auto& c : cases) {
    Zone zone;
    zone.txt("example.com", c.record)
        .add("example.com", RrType::a, {"192.0.2.10"})
        .add("example.com", RrType::aaaa, {"2001:db8::10"})
        .add("example.com", RrType::mx, {"mx1.example.com", "mx2.example.com"})
        .a("mx1.example.com", "192.0.2.25")
        .a("mx2.example.com", "192.0.2.26")
        .a("other.example.net", "198.51.100.20")
        .add("other.example.net", RrType::mx, {"mx.other.example.net"})
        .a("mx.other.example.net", "198.51.100.25")
        .a("192.0.2.55.allow.example.com", "127.0.0.2")
        .add("80.2.0.192.in-addr.arpa", RrType::ptr, {"host.example.com"})
        .a("host.example.com", "192.0.2.80")
        .add("81.2.0.192.in-addr.arpa", RrType::ptr, {"liar.example.com"})
        .a("liar.example.com", "192.0.2.99")
        .txt("_spf.example.net", "v=spf1 ip4:198.51.100.7 -all");
    const Verdict v = check(zone, c.ip);
    EXPECT_EQ(result_name(v.result), std::string(result_name(c.expected)))
        << c.record << " for " << c.ip << ": " << v.reason;
  }
}

TEST(SpfEvaluator, NoRecordIsNone) {
  Zone zone;
  zone.txt("example.com", "google-site-verification=abc");
  EXPECT_EQ(check(zone, "192.0.2.1").result, Result::none);
  Zone empty;
  const Verdict v = check(empty, "192.0.2.1");
  EXPECT_EQ(v.result, Result::none);
  EXPECT_NE(v.reason.find("does not exist"), std::string::npos) << v.reason;
}

TEST(SpfEvaluator, TwoRecordsArePermerror) {
  Zone zone;
  zone.txt("example.com", "v=spf1 ip4:192.0.2.1 -all").txt("example.com", "v=spf1 mx -all");
  const Verdict v = check(zone, "192.0.2.1");
  EXPECT_EQ(v.result, Result::permerror);
  EXPECT_NE(v.reason.find("2 SPF records"), std::string::npos) << v.reason;
}

TEST(SpfEvaluator, VersionMustBeFollowedBySpace) {
  Zone zone;
  zone.txt("example.com", "v=spf10 ip4:192.0.2.1 -all");
  EXPECT_EQ(check(zone, "192.0.2.1").result, Result::none);
}

TEST(SpfEvaluator, SyntaxErrorsAnywhereArePermerror) {
  for (const char* record :
       {"v=spf1 ip4:192.0.2.1 foo -all", "v=spf1 ip4:192.0.2 -all", "v=spf1 ip4:192.0.2.1/33",
        "v=spf1 ip4:192.0.2.1/024", "v=spf1 ip6:192.0.2.1", "v=spf1 all:example.com",
        "v=spf1 include: -all", "v=spf1 include:example -all",
        "v=spf1 redirect=a.example redirect=b.example", "v=spf1 exp=a.example exp=b.example -all",
        "v=spf1 a:%{z}.example.com", "v=spf1 a/33 -all", "v=spf1 exists:%{c}.example.com",
        "v=spf1 ip4:192.0.2.1 -all 1bad=x",
        // The error after the matching term still counts (RFC 7208 §4.6).
        "v=spf1 +all ptr:"}) {
    Zone zone;
    zone.txt("example.com", record);
    const Verdict v = check(zone, "192.0.2.1");
    EXPECT_EQ(v.result, Result::permerror) << record;
    EXPECT_NE(v.reason.find("invalid"), std::string::npos) << record << ": " << v.reason;
  }
}

TEST(SpfEvaluator, DnsFailuresAreTemperror) {
  Zone txt_broken;
  txt_broken.broken("example.com");
  EXPECT_EQ(check(txt_broken, "192.0.2.1").result, Result::temperror);

  Zone a_broken;
  a_broken.txt("example.com", "v=spf1 a:down.example.net -all").broken("down.example.net");
  EXPECT_EQ(check(a_broken, "192.0.2.1").result, Result::temperror);

  Zone include_broken;
  include_broken.txt("example.com", "v=spf1 include:down.example.net -all")
      .broken("down.example.net");
  EXPECT_EQ(check(include_broken, "192.0.2.1").result, Result::temperror);

  // A PTR failure only makes ptr not match (RFC 7208 §5.5).
  Zone ptr_broken;
  ptr_broken.txt("example.com", "v=spf1 ptr ip4:192.0.2.1 -all").broken("1.2.0.192.in-addr.arpa");
  EXPECT_EQ(check(ptr_broken, "192.0.2.1").result, Result::pass);
}

TEST(SpfEvaluator, IncludeOfNothingIsPermerror) {
  Zone zone;
  zone.txt("example.com", "v=spf1 include:nothing.example.net -all")
      .a("nothing.example.net", "192.0.2.9");
  const Verdict v = check(zone, "192.0.2.1");
  EXPECT_EQ(v.result, Result::permerror);
  EXPECT_NE(v.reason.find("no SPF record"), std::string::npos) << v.reason;

  Zone redirect;
  redirect.txt("example.com", "v=spf1 redirect=nowhere.example.net");
  EXPECT_EQ(check(redirect, "192.0.2.1").result, Result::permerror);
}

// Ten terms that query DNS are allowed, the eleventh is a permerror
// (RFC 7208 §4.6.4); the first TXT lookup is not counted.
TEST(SpfEvaluator, TenLookupsAllowedElevenAreNot) {
  for (int n : {10, 11}) {
    Zone zone;
    std::string record = "v=spf1";
    for (int i = 0; i < n; ++i) {
      const std::string name = "i" + std::to_string(i) + ".example.net";
      record += " include:" + name;
      zone.txt(name, "v=spf1 ip4:198.51.100." + std::to_string(i) + " -all");
    }
    zone.txt("example.com", record + " ip4:192.0.2.1 -all");
    const Verdict v = check(zone, "192.0.2.1");
    if (n == 10) {
      EXPECT_EQ(v.result, Result::pass) << v.reason;
      EXPECT_EQ(v.dns_lookups, 10);
    } else {
      EXPECT_EQ(v.result, Result::permerror);
      EXPECT_NE(v.reason.find("more than 10 DNS lookups"), std::string::npos) << v.reason;
    }
  }
}

TEST(SpfEvaluator, LookupsInsideIncludesCount) {
  Zone zone;
  zone.txt("example.com", "v=spf1 include:a.example.net -all")
      .txt("a.example.net", "v=spf1 a mx a mx a mx include:b.example.net -all")
      .txt("b.example.net", "v=spf1 a mx a mx -all")
      .a("a.example.net", "198.51.100.1")
      .add("a.example.net", RrType::mx, {"a.example.net"})
      .a("b.example.net", "198.51.100.2")
      .add("b.example.net", RrType::mx, {"b.example.net"});
  const Verdict v = check(zone, "192.0.2.1");
  EXPECT_EQ(v.result, Result::permerror) << v.reason;
}

TEST(SpfEvaluator, IncludeLoopEndsAtTheLimit) {
  Zone zone;
  zone.txt("example.com", "v=spf1 include:example.com -all");
  EXPECT_EQ(check(zone, "192.0.2.1").result, Result::permerror);
}

TEST(SpfEvaluator, ThirdVoidLookupIsPermerror) {
  Zone two;
  two.txt("example.com", "v=spf1 a:n1.example.com a:n2.example.com ip4:192.0.2.1 -all");
  EXPECT_EQ(check(two, "192.0.2.1").result, Result::pass);
  Zone three;
  three.txt("example.com",
            "v=spf1 a:n1.example.com a:n2.example.com a:n3.example.com ip4:192.0.2.1 -all");
  const Verdict v = check(three, "192.0.2.1");
  EXPECT_EQ(v.result, Result::permerror);
  EXPECT_EQ(v.void_lookups, 3);
}

TEST(SpfEvaluator, MoreThanTenMxNamesIsPermerror) {
  Zone zone;
  std::vector<std::string> hosts;
  for (int i = 0; i < 11; ++i) hosts.push_back("mx" + std::to_string(i) + ".example.com");
  zone.txt("example.com", "v=spf1 mx -all").add("example.com", RrType::mx, hosts);
  EXPECT_EQ(check(zone, "192.0.2.1").result, Result::permerror);
}

TEST(SpfEvaluator, ExplanationOnFail) {
  Zone zone;
  zone.txt("example.com", "v=spf1 ip4:192.0.2.1 -all exp=why.example.com")
      .txt("why.example.com", "%{i} may not send mail as %{o}");
  const Verdict v = check(zone, "192.0.2.9");
  EXPECT_EQ(v.result, Result::fail);
  EXPECT_EQ(v.explanation, "192.0.2.9 may not send mail as example.com");
  // A broken exp= changes nothing but the explanation.
  Zone broken;
  broken.txt("example.com", "v=spf1 -all exp=why.example.com").broken("why.example.com");
  const Verdict b = check(broken, "192.0.2.9");
  EXPECT_EQ(b.result, Result::fail);
  EXPECT_EQ(b.explanation, "");
}

TEST(SpfEvaluator, EmptySenderUsesHelo) {
  Zone zone;
  zone.txt("client.example.org", "v=spf1 exists:%{l}.%{o}.check.example.org -all")
      .a("postmaster.client.example.org.check.example.org", "127.0.0.2");
  const Verdict v = check(zone, "192.0.2.1", "");
  EXPECT_EQ(v.result, Result::pass) << v.reason;
}

TEST(SpfEvaluator, PMacroUsesTheValidatedName) {
  Zone zone;
  zone.txt("example.com", "v=spf1 exists:%{p}.ok.example.com -all")
      .add("80.2.0.192.in-addr.arpa", RrType::ptr, {"host.example.com"})
      .a("host.example.com", "192.0.2.80")
      .a("host.example.com.ok.example.com", "127.0.0.2");
  EXPECT_EQ(check(zone, "192.0.2.80").result, Result::pass);
  EXPECT_EQ(check(zone, "192.0.2.81").result, Result::fail);  // %{p} = "unknown"
}

TEST(SpfEvaluator, InvalidDomainIsNone) {
  Zone zone;
  Request r;
  r.ip = "192.0.2.1";
  r.sender = "user@localhost";
  const Verdict v = evaluate(r, [&zone](const Question& q) { return zone(q); });
  EXPECT_EQ(v.result, Result::none);
  EXPECT_TRUE(zone.asked.empty());  // no lookup for a name that cannot exist
}

// The evaluator asks, one question at a time, and waits to be answered.
TEST(SpfEvaluator, AsksOneQuestionAtATime) {
  Request r;
  r.ip = "192.0.2.25";
  r.sender = "a@example.com";
  Evaluator e(r);
  auto q = e.next_question();
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, (Question{"example.com", RrType::txt}));
  EXPECT_EQ(e.next_question(), q);  // unanswered: the same question again
  e.answer(*q, {AnswerStatus::ok, {"v=spf1 mx -all"}});
  q = e.next_question();
  EXPECT_EQ(*q, (Question{"example.com", RrType::mx}));
  e.answer(*q, {AnswerStatus::ok, {"mx.example.com"}});
  q = e.next_question();
  EXPECT_EQ(*q, (Question{"mx.example.com", RrType::a}));
  e.answer(*q, {AnswerStatus::ok, {"192.0.2.25"}});
  EXPECT_FALSE(e.next_question());
  EXPECT_EQ(e.verdict().result, Result::pass);
  EXPECT_EQ(e.verdict().dns_lookups, 1);
  EXPECT_EQ(e.verdict().record, "v=spf1 mx -all");
}

}  // namespace
}  // namespace postern::mailauth::spf
