// The inbound checks of one message (SPF, DKIM, DMARC together), driven
// with a table of DNS answers: which questions go out together, what the
// Authentication-Results field says, and what enforcement does.
#include <gtest/gtest.h>

#include <algorithm>

#include "../mailauth/dkim_test_keys.hpp"
#include "../mailauth/spf_zone.hpp"
#include "inbound/verification.hpp"
#include "mailauth/dkim/signer.hpp"

namespace postern::inbound {
namespace {

using mailauth::Question;
using mailauth::RrType;
using mailauth::test::Zone;

constexpr std::int64_t kNow = 1'800'000'000;
const std::string kClient = "192.0.2.10";

std::string message_from(const std::string& from) {
  return "From: Alice <alice@" + from +
         ">\r\nTo: bob@example.net\r\nSubject: hi\r\nDate: Mon, 7 Dec 2026 10:00:00 "
         "+0000\r\n\r\nHello.\r\n";
}

mailauth::dkim::SigningKey key_for(const std::string& domain) {
  auto k = mailauth::dkim::parse_private_key(mailauth::dkim::test::rfc8032_private_pem());
  return {domain, "brisbane", *k.key};
}

std::string signed_message(const std::string& from, const std::vector<std::string>& domains) {
  std::string m = message_from(from);
  std::vector<mailauth::dkim::SigningKey> keys;
  for (const auto& d : domains) keys.push_back(key_for(d));
  const auto r = mailauth::dkim::sign(m, keys, kNow);
  EXPECT_TRUE(r.error.empty()) << r.error;
  return r.header_fields + m;
}

std::string ed_record() {
  return "v=DKIM1; k=ed25519; p=" + std::string(mailauth::dkim::test::rfc8032_public);
}

Zone base_zone() {
  Zone z;
  z.txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
  z.txt("brisbane._domainkey.example.com", ed_record());
  z.txt("_dmarc.example.com", "v=DMARC1; p=reject");
  return z;
}

Input input_for(const std::string& message, const std::string& mail_from = "alice@example.com") {
  Input in;
  in.authserv_id = "mx.example.net";
  in.client_ip = kClient;
  in.helo = "mail.example.com";
  in.mail_from = mail_from;
  in.message = message;
  in.now = kNow;
  return in;
}

Outcome drive(Verification& v, Zone& zone, bool enforce) {
  for (int stage = 0; stage < 2; ++stage) {
    for (int round = 0; round < 100; ++round) {
      const auto qs = v.questions();
      if (qs.empty()) break;
      for (const auto& q : qs) v.answer(q, zone(q));
    }
    if (stage == 0) v.verify_signatures();
  }
  return v.outcome(enforce);
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Verification, EverythingPasses) {
  const std::string m = signed_message("example.com", {"example.com"});
  Zone zone = base_zone();
  Verification v(input_for(m));
  const Outcome o = drive(v, zone, true);
  EXPECT_TRUE(o.field.starts_with("Authentication-Results: mx.example.net;")) << o.field;
  EXPECT_TRUE(o.field.ends_with("\r\n"));
  EXPECT_TRUE(has(o.field, "spf=pass")) << o.field;
  EXPECT_TRUE(has(o.field, "dkim=pass")) << o.field;
  EXPECT_TRUE(has(o.field, "dmarc=pass")) << o.field;
  EXPECT_EQ(o.action, Action::accept);
  EXPECT_TRUE(has(o.log, "spf=pass dkim=pass:example.com dmarc=pass")) << o.log;
}

// SPF, the DKIM key and the DMARC record are asked in the same first round.
TEST(Verification, FirstRoundAsksEverythingAtOnce) {
  const std::string m = signed_message("example.com", {"example.com"});
  Verification v(input_for(m));
  const auto qs = v.questions();
  auto asked = [&](const std::string& name) {
    return std::any_of(qs.begin(), qs.end(),
                       [&](const Question& q) { return q.name == name && q.type == RrType::txt; });
  };
  EXPECT_TRUE(asked("example.com"));
  EXPECT_TRUE(asked("brisbane._domainkey.example.com"));
  EXPECT_TRUE(asked("_dmarc.example.com"));
  EXPECT_EQ(qs.size(), 3u);
}

TEST(Verification, RejectIsEnforcedOnlyWhenAsked) {
  // Signed by another domain, sent from an address SPF does not allow.
  const std::string m = signed_message("example.com", {"other.test"});
  Zone zone = base_zone();
  zone.txt("brisbane._domainkey.other.test", ed_record());
  Input in = input_for(m);
  in.client_ip = "203.0.113.5";
  {
    Verification v(in);
    const Outcome o = drive(v, zone, false);
    EXPECT_TRUE(has(o.field, "spf=fail")) << o.field;
    EXPECT_TRUE(has(o.field, "dkim=pass")) << o.field;
    EXPECT_TRUE(has(o.field, "dmarc=fail")) << o.field;
    EXPECT_EQ(o.action, Action::accept);
  }
  Verification v(in);
  const Outcome o = drive(v, zone, true);
  EXPECT_EQ(o.action, Action::reject);
  EXPECT_EQ(o.reply.code, 550);
  EXPECT_EQ(o.reply.status, "5.7.1");
  EXPECT_TRUE(has(o.reply.summary(), "example.com")) << o.reply.summary();
}

TEST(Verification, QuarantineGoesToJunk) {
  const std::string m = message_from("example.com");
  Zone zone;
  zone.txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
  zone.txt("_dmarc.example.com", "v=DMARC1; p=quarantine");
  Input in = input_for(m);
  in.client_ip = "203.0.113.5";
  Verification v(in);
  const Outcome o = drive(v, zone, true);
  EXPECT_EQ(o.action, Action::junk) << o.field;
  EXPECT_TRUE(has(o.field, "dkim=none")) << o.field;
}

TEST(Verification, DnsTroubleDefersWhenEnforcing) {
  const std::string m = message_from("example.com");
  Zone zone = base_zone();
  zone.broken("_dmarc.example.com");
  {
    Verification v(input_for(m));
    const Outcome o = drive(v, zone, false);
    EXPECT_TRUE(has(o.field, "dmarc=temperror")) << o.field;
    EXPECT_EQ(o.action, Action::accept);
  }
  Verification v(input_for(m));
  const Outcome o = drive(v, zone, true);
  EXPECT_EQ(o.action, Action::defer) << o.field;
  EXPECT_EQ(o.reply.code, 451);
  EXPECT_EQ(o.reply.status, "4.7.0");
}

// The null sender: SPF checks the HELO identity (RFC 7208 §2.4).
TEST(Verification, NullSenderChecksHelo) {
  const std::string m = message_from("example.com");
  Zone zone = base_zone();
  zone.txt("mail.example.com", "v=spf1 ip4:192.0.2.10 -all");
  Verification v(input_for(m, ""));
  const Outcome o = drive(v, zone, false);
  EXPECT_TRUE(has(o.field, "spf=pass")) << o.field;
  EXPECT_TRUE(std::any_of(zone.asked.begin(), zone.asked.end(),
                          [](const Question& q) { return q.name == "mail.example.com"; }));
}

// 10,000 signatures cost kMaxSignatures key lookups, not 10,000.
TEST(Verification, SignaturesAreBounded) {
  const std::string one = signed_message("example.com", {"example.com"});
  const std::string field = one.substr(0, one.find("From:"));
  std::string m;
  for (int i = 0; i < 10000; ++i) m += field;
  m += message_from("example.com");
  Zone zone = base_zone();
  Verification v(input_for(m));
  const Outcome o = drive(v, zone, false);
  EXPECT_EQ(v.signatures_found(), 10000u);
  const auto key_lookups = std::count_if(zone.asked.begin(), zone.asked.end(), [](const auto& q) {
    return q.name == "brisbane._domainkey.example.com";
  });
  EXPECT_EQ(key_lookups, 1);  // one key, asked once
  EXPECT_TRUE(has(o.log, "dkim_unchecked=9990")) << o.log;
}

TEST(Verification, ChecksCanBeTurnedOff) {
  const std::string m = signed_message("example.com", {"example.com"});
  Zone zone = base_zone();
  Input in = input_for(m);
  in.checks = {false, true, false};
  Verification v(in);
  const Outcome o = drive(v, zone, true);
  EXPECT_FALSE(has(o.field, "spf=")) << o.field;
  EXPECT_FALSE(has(o.field, "dmarc=")) << o.field;
  EXPECT_TRUE(has(o.field, "dkim=pass")) << o.field;
  EXPECT_EQ(o.action, Action::accept);
  EXPECT_FALSE(std::any_of(zone.asked.begin(), zone.asked.end(),
                           [](const Question& q) { return q.name == "_dmarc.example.com"; }));
}

// The edge's time bound: what is still open is a temporary failure.
TEST(Verification, GivingUpIsTemperror) {
  const std::string m = signed_message("example.com", {"example.com"});
  Verification v(input_for(m));
  ASSERT_FALSE(v.questions().empty());
  v.give_up();
  EXPECT_TRUE(v.questions().empty());
  v.verify_signatures();
  for (int i = 0; i < 10; ++i) {
    if (v.questions().empty()) break;
    v.give_up();
  }
  const Outcome o = v.outcome(true);
  EXPECT_TRUE(has(o.field, "spf=temperror")) << o.field;
  EXPECT_TRUE(has(o.field, "dkim=temperror")) << o.field;
  EXPECT_EQ(o.action, Action::defer);
}

}  // namespace
}  // namespace postern::inbound
