// DMARC policy records (RFC 7489 §6.3, §6.4, §6.6.3 step 6): what counts as
// a record, the tags we act on, and which mistakes leave no policy.
#include "mailauth/dmarc/record.hpp"

#include <gtest/gtest.h>

namespace postern::mailauth::dmarc {
namespace {

TEST(DmarcRecord, RecognisesOnlyVDmarc1First) {
  EXPECT_TRUE(is_dmarc_record("v=DMARC1; p=none"));
  EXPECT_TRUE(is_dmarc_record("v=DMARC1"));
  EXPECT_TRUE(is_dmarc_record("  v = DMARC1 ;p=reject"));
  EXPECT_TRUE(is_dmarc_record("V=DMARC1; p=none"));   // tag names: ABNF strings, any case
  EXPECT_FALSE(is_dmarc_record("v=dmarc1; p=none"));  // the value: %x codes, exact
  EXPECT_FALSE(is_dmarc_record("p=none; v=DMARC1"));
  EXPECT_FALSE(is_dmarc_record("v=DMARC2; p=none"));
  EXPECT_FALSE(is_dmarc_record("v=DMARC1p=none"));
  EXPECT_FALSE(is_dmarc_record("v=spf1 -all"));
  EXPECT_FALSE(is_dmarc_record(""));
  EXPECT_FALSE(is_dmarc_record("version=DMARC1"));
}

TEST(DmarcRecord, ReadsTheTagsWeActOn) {
  std::string error;
  const auto r = parse_record(
      "v=DMARC1; p=quarantine; sp=reject; pct=25; adkim=s; aspf=s; "
      "rua=mailto:agg@example.com,mailto:x@example.net!10m; ruf=mailto:f@example.com; fo=1",
      error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->policy, Policy::quarantine);
  EXPECT_EQ(r->subdomain_policy, Policy::reject);
  EXPECT_EQ(r->percent, 25);
  EXPECT_EQ(r->dkim_alignment, Alignment::strict);
  EXPECT_EQ(r->spf_alignment, Alignment::strict);
  EXPECT_EQ(r->rua,
            (std::vector<std::string>{"mailto:agg@example.com", "mailto:x@example.net!10m"}));
  EXPECT_EQ(r->ruf, (std::vector<std::string>{"mailto:f@example.com"}));
  EXPECT_FALSE(r->policy_defaulted);
}

TEST(DmarcRecord, DefaultsFollowTheRfc) {
  std::string error;
  const auto r = parse_record("v=DMARC1; p=reject", error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->policy, Policy::reject);
  EXPECT_EQ(r->subdomain_policy, Policy::reject);  // sp= absent: p= (§6.3)
  EXPECT_EQ(r->percent, 100);
  EXPECT_EQ(r->dkim_alignment, Alignment::relaxed);
  EXPECT_EQ(r->spf_alignment, Alignment::relaxed);
}

TEST(DmarcRecord, ToleratesCaseSpacingAndEmptyParts) {
  const char* records[] = {
      "v=DMARC1; p=REJECT",
      "v=DMARC1;p=reject;",
      "v=DMARC1 ;  p = reject ; ",
      "v=DMARC1;; p=reject",
      "v=DMARC1; P=Reject",
      "v=DMARC1;\tp=reject;\tfuture=whatever; x-y=1",  // unknown tags ignored (§6.3)
  };
  for (const char* text : records) {
    std::string error;
    const auto r = parse_record(text, error);
    ASSERT_TRUE(r) << text << ": " << error;
    EXPECT_EQ(r->policy, Policy::reject) << text;
  }
}

struct BadCase {
  const char* record;
  const char* error_mentions;
};

TEST(DmarcRecord, SyntaxErrorsLeaveNoPolicy) {
  const BadCase cases[] = {
      {"v=DMARC1", "p= is missing"},
      {"v=DMARC1; p=block", "p=block"},
      {"v=DMARC1; p=reject; sp=maybe", "sp=maybe"},
      {"v=DMARC1; p=reject; p=none", "appears twice"},
      {"v=DMARC1; p=reject; P=none", "appears twice"},
      {"v=DMARC1; p=reject; pct=101", "pct=101"},
      {"v=DMARC1; p=reject; pct=-1", "pct=-1"},
      {"v=DMARC1; p=reject; pct=50%", "pct=50%"},
      {"v=DMARC1; p=reject; pct=", "pct="},
      {"v=DMARC1; p=reject; adkim=x", "adkim=x"},
      {"v=DMARC1; p=reject; aspf=relaxed", "aspf=relaxed"},
      {"v=DMARC1; p=reject; garbage", "not a tag=value"},
      {"v=DMARC1; p=reject; =x", "without a tag name"},
      {"v=DMARC1; p=block; rua=not a uri", "p=block"},
      {"p=reject", "v=DMARC1"},
  };
  for (const BadCase& c : cases) {
    std::string error;
    EXPECT_FALSE(parse_record(c.record, error)) << c.record;
    EXPECT_NE(error.find(c.error_mentions), std::string::npos) << c.record << " -> " << error;
  }
}

// §6.6.3 step 6: an invalid or missing p= with a valid rua= is p=none.
TEST(DmarcRecord, InvalidPolicyWithValidRuaIsPNone) {
  const char* records[] = {
      "v=DMARC1; rua=mailto:dmarc@example.com",
      "v=DMARC1; p=block; rua=mailto:dmarc@example.com",
      "v=DMARC1; p=reject; sp=block; rua=bogus, mailto:dmarc@example.com!5k",
  };
  for (const char* text : records) {
    std::string error;
    const auto r = parse_record(text, error);
    ASSERT_TRUE(r) << text << ": " << error;
    EXPECT_EQ(r->policy, Policy::none) << text;
    EXPECT_EQ(r->subdomain_policy, Policy::none) << text;
    EXPECT_TRUE(r->policy_defaulted) << text;
    EXPECT_NE(r->note.find("treated as p=none"), std::string::npos) << r->note;
  }
  std::string error;
  EXPECT_FALSE(parse_record("v=DMARC1; p=block; rua=mailto", error));
  EXPECT_FALSE(parse_record("v=DMARC1; p=block; rua=:x", error));
  EXPECT_FALSE(parse_record("v=DMARC1; p=block; rua=mailto:a@b!x", error));
}

TEST(DmarcRecord, PercentBoundaries) {
  for (int pct : {0, 1, 99, 100}) {
    std::string error;
    const auto r = parse_record("v=DMARC1; p=reject; pct=" + std::to_string(pct), error);
    ASSERT_TRUE(r) << error;
    EXPECT_EQ(r->percent, pct);
  }
}

TEST(DmarcRecord, NamesItsValues) {
  EXPECT_STREQ(policy_name(Policy::none), "none");
  EXPECT_STREQ(policy_name(Policy::quarantine), "quarantine");
  EXPECT_STREQ(policy_name(Policy::reject), "reject");
  EXPECT_STREQ(alignment_name(Alignment::relaxed), "r");
  EXPECT_STREQ(alignment_name(Alignment::strict), "s");
}

}  // namespace
}  // namespace postern::mailauth::dmarc
