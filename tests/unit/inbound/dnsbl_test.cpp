// DNS blocklists (RFC 5782): query names, what answers mean, the refusal.
#include <gtest/gtest.h>

#include "inbound/dnsbl.hpp"

namespace postern::inbound {
namespace {

using mailauth::Answer;
using mailauth::AnswerStatus;

TEST(DnsblName, Ipv4OctetsReversed) {
  EXPECT_EQ(dnsbl_query_name("192.0.2.99", "list.example"), "99.2.0.192.list.example");
  EXPECT_EQ(dnsbl_query_name("127.0.0.2", "zen.spamhaus.org"), "2.0.0.127.zen.spamhaus.org");
}

// RFC 5782 §2.4's own example.
TEST(DnsblName, Ipv6NibblesReversed) {
  EXPECT_EQ(dnsbl_query_name("2001:db8:1:2:3:4:567:89ab", "ugly.example.com"),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com");
  EXPECT_EQ(dnsbl_query_name("::1", "l.test"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.l.test");
}

TEST(DnsblName, NotAnAddress) {
  EXPECT_FALSE(dnsbl_query_name("example.com", "l.test"));
  EXPECT_FALSE(dnsbl_query_name("", "l.test"));
  EXPECT_FALSE(dnsbl_query_name("192.0.2.1/24", "l.test"));
}

TEST(DnsblJudge, NxdomainIsNotListed) {
  const auto r = judge_dnsbl("l.test", Answer{AnswerStatus::nxdomain, {}}, nullptr);
  EXPECT_EQ(r.status, DnsblResult::Status::not_listed);
  EXPECT_EQ(judge_dnsbl("l.test", Answer{AnswerStatus::no_data, {}}, nullptr).status,
            DnsblResult::Status::not_listed);
}

TEST(DnsblJudge, LoopbackAddressIsListedWithReason) {
  const Answer txt{AnswerStatus::ok, {"Listed: see https://l.test/q?1.2.3.4"}};
  const auto r = judge_dnsbl("l.test", Answer{AnswerStatus::ok, {"127.0.0.2"}}, &txt);
  EXPECT_EQ(r.status, DnsblResult::Status::listed);
  EXPECT_EQ(r.code, "127.0.0.2");
  EXPECT_EQ(r.reason, "Listed: see https://l.test/q?1.2.3.4");
  const Reply reply = dnsbl_refusal("1.2.3.4", r);
  EXPECT_EQ(reply.code, 554);
  EXPECT_EQ(reply.status, "5.7.1");
  EXPECT_EQ(reply.summary(),
            "554 5.7.1 Service unavailable; client [1.2.3.4] blocked using l.test: Listed: see "
            "https://l.test/q?1.2.3.4");
}

TEST(DnsblJudge, ListedWithoutReason) {
  const Answer txt{AnswerStatus::temporary_failure, {}};
  const auto r = judge_dnsbl("l.test", Answer{AnswerStatus::ok, {"127.0.0.4"}}, &txt);
  EXPECT_EQ(r.status, DnsblResult::Status::listed);
  EXPECT_EQ(dnsbl_refusal("::1", r).summary(),
            "554 5.7.1 Service unavailable; client [::1] blocked using l.test");
}

// A list that does not answer never blocks mail (SPEC §1.8).
TEST(DnsblJudge, FailureIsNotAListing) {
  const auto r = judge_dnsbl("l.test", Answer{AnswerStatus::temporary_failure, {}}, nullptr);
  EXPECT_EQ(r.status, DnsblResult::Status::failed);
  EXPECT_FALSE(r.note.empty());
}

TEST(DnsblJudge, AddressesOutside127AreUnusable) {
  const auto r = judge_dnsbl("l.test", Answer{AnswerStatus::ok, {"192.0.2.1"}}, nullptr);
  EXPECT_EQ(r.status, DnsblResult::Status::unusable);
  EXPECT_EQ(judge_dnsbl("l.test", Answer{AnswerStatus::ok, {"not an address"}}, nullptr).status,
            DnsblResult::Status::unusable);
}

TEST(DnsblJudge, ErrorCodesAreUnusable) {
  // Spamhaus: 127.255.255.254 "query via public resolver".
  const auto r = judge_dnsbl("l.test", Answer{AnswerStatus::ok, {"127.255.255.254"}}, nullptr);
  EXPECT_EQ(r.status, DnsblResult::Status::unusable);
  // One real listing among odd answers still lists.
  const auto mixed =
      judge_dnsbl("l.test", Answer{AnswerStatus::ok, {"192.0.2.1", "127.0.0.3"}}, nullptr);
  EXPECT_EQ(mixed.status, DnsblResult::Status::listed);
  EXPECT_EQ(mixed.code, "127.0.0.3");
}

// The TXT text is the list operator's: it cannot add reply lines or log
// fields, and it is bounded.
TEST(DnsblReason, MadeSafe) {
  EXPECT_EQ(safe_reason("a\r\n554 b\tc  d"), "a 554 b c d");
  EXPECT_EQ(safe_reason("  x  "), "x");
  EXPECT_EQ(safe_reason(std::string("a\0b\x7f\xc3\xa9", 6)), "a?b???");
  const std::string long_text(70000, 'x');
  const std::string cut = safe_reason(long_text);
  EXPECT_EQ(cut.size(), kMaxReasonLength);
  EXPECT_TRUE(cut.ends_with("..."));
}

}  // namespace
}  // namespace postern::inbound
