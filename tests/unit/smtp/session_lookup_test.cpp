// RCPT with mailboxes in an outside user database (Dovecot, SPEC §1.12):
// the session asks with LookupRecipient and answers when recipient_result
// arrives; Dovecot down is 451 4.3.0, never 550. expect_dialogue replays
// every dialogue split at every byte and with each lookup failing (the
// harness then requires the 451).
#include <gtest/gtest.h>

#include "unit/smtp/session_harness.hpp"

namespace postern::smtp::test {
namespace {

const std::vector<std::string> kEhlo = {"C: EHLO client.example", "S: 250"};

Script dovecot_users() {
  Script s;
  s.remote_mailboxes = true;
  s.known = {"dave@example.com", "Erin@example.org"};
  return s;
}

TEST(SessionLookup, KnownAcceptedUnknownRefused) {
  const auto o = expect_dialogue(
      relay(),
      cat(kEhlo,
          {"C: MAIL FROM:<a@remote.example>", "S: 250 2.1.0", "C: RCPT TO:<dave@example.com>",
           "S: 250 2.1.5", "C: RCPT TO:<nobody@example.com>",
           "S: 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown", "C: DATA",
           "S: 354", "C: Subject: x", "C: ", "C: hi", "C: .", "S: 250 2.0.0", "C: QUIT", "S: 221"}),
      dovecot_users());
  ASSERT_EQ(o.lookups.size(), 2u);
  EXPECT_EQ(o.lookups[0].address, "dave@example.com");
  EXPECT_EQ(o.lookups[1].address, "nobody@example.com");
  ASSERT_EQ(o.commits.size(), 1u);
  ASSERT_EQ(o.commits[0].envelope.recipients.size(), 1u);
  EXPECT_EQ(o.commits[0].envelope.recipients[0].address, "dave@example.com");
}

TEST(SessionLookup, PipelinedRecipientsAreAnsweredInOrder) {
  // RFC 2920: replies in command order, each RCPT waiting for its lookup.
  const auto o = expect_dialogue(
      relay(),
      cat(kEhlo, {"C: MAIL FROM:<a@remote.example>", "C: RCPT TO:<dave@example.com>",
                  "C: RCPT TO:<nobody@example.com>", "C: RCPT TO:<Erin@example.org>", "C: DATA",
                  "S: 250 2.1.0", "S: 250 2.1.5", "S: 550 5.1.1", "S: 250 2.1.5", "S: 354", "C: hi",
                  "C: .", "S: 250 2.0.0"}),
      dovecot_users());
  EXPECT_EQ(o.lookups.size(), 3u);
  ASSERT_EQ(o.commits.size(), 1u);
  EXPECT_EQ(o.commits[0].envelope.recipients.size(), 2u);
}

TEST(SessionLookup, DovecotDownIs451AndTheClientMayRetry) {
  Script s = dovecot_users();
  s.fail_step = 0;  // the first lookup: Dovecot unreachable
  const auto o = expect_dialogue(
      relay(),
      cat(kEhlo,
          {"C: MAIL FROM:<a@remote.example>", "S: 250 2.1.0", "C: RCPT TO:<dave@example.com>",
           "S: 451 4.3.0 <dave@example.com>: Recipient address lookup failed, try again later",
           "C: RCPT TO:<dave@example.com>", "S: 250 2.1.5"}),
      s, Variants{true, false});
  EXPECT_EQ(o.lookups.size(), 2u);
  bool logged = false;
  for (const auto& l : o.logs) {
    logged |= l.event == "reject" && l.fields.find("451 4.3.0") != std::string::npos;
  }
  EXPECT_TRUE(logged);
}

TEST(SessionLookup, ForeignDomainsAndRoutingTricksAreNotAsked) {
  const auto o = expect_dialogue(
      relay(),
      cat(kEhlo,
          {"C: MAIL FROM:<a@remote.example>", "S: 250 2.1.0", "C: RCPT TO:<x@elsewhere.example>",
           "S: 554 5.7.1", "C: RCPT TO:<dave%elsewhere.example@example.com>", "S: 554 5.7.1"}),
      dovecot_users());
  EXPECT_TRUE(o.lookups.empty());
}

TEST(SessionLookup, SenderOwnershipUsesTheVerifiersName) {
  // The client logs in as "DAVE"; Dovecot says the user is
  // dave@example.com, and that name owns the sender.
  Script s = dovecot_users();
  s.passwords = {{"DAVE", "pw"}};
  s.canonical = {{"DAVE", "dave@example.com"}};
  expect_dialogue(submission(),
                  cat(kStartTls, {"C: AUTH PLAIN AERBVkUAcHc=", "S: 235 2.7.0",
                                  "C: MAIL FROM:<dave@example.com>", "S: 250 2.1.0",
                                  "C: RCPT TO:<someone@elsewhere.example>", "S: 250 2.1.5"}),
                  s);
}

}  // namespace
}  // namespace postern::smtp::test
