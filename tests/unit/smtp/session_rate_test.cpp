// Per-user limits in ServerSession (SPEC §1.10): an authenticated user's
// MAIL and each new recipient wait for CheckRate; a refusal is 450 4.7.1
// with when to retry and a rate_limited log line; the session goes on.
#include <gtest/gtest.h>

#include "unit/smtp/session_harness.hpp"

namespace postern::smtp::test {
namespace {

SessionSettings limited() {
  SessionSettings s = submission();
  s.user_rate_limits = true;
  return s;
}

const LogEvent* find_log(const Outcome& o, std::string_view event) {
  for (const auto& l : o.logs) {
    if (l.event == event) return &l;
  }
  return nullptr;
}

TEST(SessionRate, MessageOverTheLimitGets450WithRetryHint) {
  Script s;
  s.message_budget = 1;
  const auto o = expect_dialogue(
      limited(),
      cat(cat(kStartTls, kAuthAlice),
          {"C: MAIL FROM:<alice@example.com>", "S: 250 2.1.0", "C: RCPT TO:<bob@example.com>",
           "S: 250 2.1.5", "C: RSET", "S: 250", "C: MAIL FROM:<alice@example.com>",
           "S: 450 4.7.1 Message limit reached for this user (5/1m); try again in 42 seconds",
           // Not in a transaction: RCPT is a sequence error; the session goes on.
           "C: RCPT TO:<bob@example.com>", "S: 503", "C: NOOP", "S: 250"}),
      s);
  ASSERT_EQ(o.rate_checks.size(), 3u);  // MAIL, RCPT, MAIL
  EXPECT_EQ(o.rate_checks[0].kind, RateKind::messages);
  EXPECT_EQ(o.rate_checks[0].user, "alice@example.com");
  EXPECT_EQ(o.rate_checks[1].kind, RateKind::recipients);
  const LogEvent* l = find_log(o, "rate_limited");
  ASSERT_NE(l, nullptr);
  EXPECT_NE(l->fields.find("user=\"alice@example.com\""), std::string::npos) << l->fields;
  EXPECT_NE(l->fields.find("limit=user_messages:5/1m"), std::string::npos) << l->fields;
  EXPECT_NE(l->fields.find("retry_after=42s"), std::string::npos) << l->fields;
  EXPECT_TRUE(l->warning);
}

TEST(SessionRate, RecipientThatCrossesTheLimitGets450AndTheOthersStay) {
  Script s;
  s.recipient_budget = 2;
  const auto o = expect_dialogue(
      limited(),
      cat(cat(kStartTls, kAuthAlice),
          {"C: MAIL FROM:<alice@example.com>", "S: 250 2.1.0", "C: RCPT TO:<bob@example.com>",
           "S: 250 2.1.5",
           // A repeat costs nothing.
           "C: RCPT TO:<bob@example.com>", "S: 250 2.1.5", "C: RCPT TO:<carol@example.org>",
           "S: 250 2.1.5", "C: RCPT TO:<dave@elsewhere.example>",
           "S: 450 4.7.1 Recipient limit reached", "C: DATA", "S: 354", "C: Subject: hi",
           "C: ", "C: body", "C: .", "S: 250 2.0.0"}),
      s);
  ASSERT_EQ(o.commits.size(), 1u);
  EXPECT_EQ(o.commits[0].envelope.recipients.size(), 2u);
  const LogEvent* l = find_log(o, "rate_limited");
  ASSERT_NE(l, nullptr);
  EXPECT_NE(l->fields.find("cmd=RCPT"), std::string::npos) << l->fields;
  EXPECT_NE(l->fields.find("limit=user_recipients:5/1m"), std::string::npos) << l->fields;
}

TEST(SessionRate, NothingAskedWithoutLimitsOrWithoutAUser) {
  const auto o = expect_dialogue(
      submission(),
      cat(cat(kStartTls, kAuthAlice), {"C: MAIL FROM:<alice@example.com>", "S: 250 2.1.0",
                                       "C: RCPT TO:<bob@example.com>", "S: 250 2.1.5"}));
  EXPECT_TRUE(o.rate_checks.empty());
  SessionSettings relay_limited = relay();
  relay_limited.user_rate_limits = true;
  const auto r =
      expect_dialogue(relay_limited, {"C: EHLO c", "S: 250", "C: MAIL FROM:<x@remote.example>",
                                      "S: 250", "C: RCPT TO:<bob@example.com>", "S: 250"});
  EXPECT_TRUE(r.rate_checks.empty());
}

TEST(SessionRate, PipelinedCommandsWaitForTheAnswer) {
  Script s;
  s.message_budget = 0;
  // MAIL, RCPT and DATA in one flight: MAIL is refused, so RCPT and DATA
  // are sequence errors, answered in order.
  expect_dialogue(limited(),
                  cat(cat(kStartTls, kAuthAlice),
                      {"C: MAIL FROM:<alice@example.com>", "C: RCPT TO:<bob@example.com>",
                       "C: DATA", "S: 450 4.7.1", "S: 503", "S: 503"}),
                  s);
}

}  // namespace
}  // namespace postern::smtp::test
