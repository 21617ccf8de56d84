// What counts toward the error limit, what is logged, and what the
// envelope records: the session rules that no single reply shows.
#include <gtest/gtest.h>

#include "unit/smtp/session_harness.hpp"

namespace postern::smtp::test {
namespace {

const std::vector<std::string> kEhlo = {"C: EHLO client.example", "S: 250"};
const std::vector<std::string> kTxn = {"C: MAIL FROM:<a@remote.example>", "S: 250 2.1.0"};

const LogEvent* find_log(const Outcome& o, std::string_view event, std::string_view needle = "") {
  for (const auto& l : o.logs) {
    if (l.event == event && l.fields.find(needle) != std::string::npos) return &l;
  }
  return nullptr;
}

TEST(SessionErrorLimit, PolicyRefusalsCountAndTheLimitClosesMidPipeline) {
  // RCPT refusals count (they are how addresses are harvested); the 421
  // comes right after the reply that reached the limit, and nothing after it.
  auto s = relay();
  s.limits.max_errors = 2;
  const auto o = expect_dialogue(
      s,
      cat(cat(kEhlo, kTxn), {"C: RCPT TO:<nobody@example.com>", "C: RCPT TO:<x@elsewhere.example>",
                             "C: RCPT TO:<alice@example.com>", "S: 550 5.1.1", "S: 554 5.7.1",
                             "S: 421 4.7.0 mx.example.com Error: too many errors"}));
  EXPECT_EQ(o.close_reasons, std::vector<std::string>{"too many errors"});
}

TEST(SessionErrorLimit, TemporaryRefusalsAndExpnDoNotCount) {
  // 452 too many recipients tells a good client to send the rest later, and
  // EXPN's 502 is a policy answer to a valid command: neither is an error.
  auto s = relay();
  s.limits.max_errors = 2;
  s.limits.max_recipients = 1;
  expect_dialogue(
      s, cat(cat(kEhlo, kTxn),
             {"C: RCPT TO:<alice@example.com>", "S: 250 2.1.5", "C: RCPT TO:<bob@example.com>",
              "S: 452 4.5.3", "C: RCPT TO:<bob@example.com>", "S: 452 4.5.3", "C: EXPN staff",
              "S: 502 5.5.1", "C: EXPN staff", "S: 502 5.5.1", "C: FOO", "S: 500 5.5.1", "C: NOOP",
              "S: 250 2.0.0"}));
}

TEST(SessionErrorLimit, FailedAuthCounts) {
  auto s = submission(TlsMode::implicit);
  s.limits.max_errors = 2;
  Script script;
  script.throttled = {"bob@example.com"};
  expect_dialogue(s,
                  cat(kEhlo, {"C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHdyb25n",
                              "S: 535 5.7.8 Authentication credentials invalid",
                              "C: AUTH PLAIN AGJvYkBleGFtcGxlLmNvbQB4",
                              "S: 454 4.7.0 Too many authentication failures",
                              "S: 421 4.7.0 mx.example.com Error: too many errors"}),
                  script);
}

TEST(SessionErrorLimit, OversizedMessageCounts) {
  auto s = relay();
  s.limits.max_errors = 1;
  s.limits.max_message_size = 5;
  expect_dialogue(s, cat(cat(kEhlo, kTxn), {"C: RCPT TO:<alice@example.com>", "S: 250", "C: DATA",
                                            "S: 354", "C: 123456", "C: .", "S: 552 5.3.4",
                                            "S: 421 4.7.0 mx.example.com Error: too many errors"}));
}

TEST(SessionLog, RejectsNameTheEnvelopeAndTheReply) {
  const auto o = expect_dialogue(
      relay(), cat(cat(kEhlo, kTxn), {"C: RCPT TO:<x@elsewhere.example>", "S: 554 5.7.1"}));
  const LogEvent* l = find_log(o, "reject", "cmd=RCPT");
  ASSERT_NE(l, nullptr);
  EXPECT_TRUE(l->fields.starts_with("session=S1 client=192.0.2.7 ")) << l->fields;
  EXPECT_NE(l->fields.find("from=\"<a@remote.example>\""), std::string::npos) << l->fields;
  EXPECT_NE(l->fields.find("to=\"<x@elsewhere.example>\""), std::string::npos) << l->fields;
  EXPECT_NE(l->fields.find("reply=\"554 5.7.1 <x@elsewhere.example>: Relay access denied\""),
            std::string::npos)
      << l->fields;
}

TEST(SessionLog, ClientTextCannotForgeLogFields) {
  const auto o = expect_dialogue(relay(), {"C: EHLO a\" evil=\"1", "S: 250"});
  const LogEvent* l = find_log(o, "helo");
  ASSERT_NE(l, nullptr);
  EXPECT_NE(l->fields.find(R"(helo="a\" evil=\"1")"), std::string::npos) << l->fields;
}

TEST(SessionLog, LostConnectionDuringATransaction) {
  Harness h(relay());
  h.start();
  h.feed("EHLO c\r\nMAIL FROM:<a@remote.example>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nhal");
  h.peer_closed();
  const auto& o = h.outcome();
  EXPECT_NE(find_log(o, "lost", "state=message"), nullptr);
  EXPECT_TRUE(o.commits.empty());
  check_invariants(o);
}

TEST(SessionLog, NoLostEventOutsideATransaction) {
  Harness h(relay());
  h.start();
  h.feed("EHLO c\r\n");
  h.peer_closed();
  EXPECT_EQ(find_log(h.outcome(), "lost"), nullptr);
  EXPECT_EQ(h.outcome().close_reasons, std::vector<std::string>{"peer closed"});
}

TEST(SessionLog, PipeliningPastAGroupEndIsNotedOnce) {
  // RFC 2920 §3.1: the client should have waited for the EHLO reply. It is
  // served anyway, and the log says so once.
  const auto o =
      expect_dialogue(relay(), {"C: EHLO c", "C: NOOP", "C: NOOP", "S: 250", "S: 250", "S: 250"});
  int n = 0;
  for (const auto& l : o.logs) n += l.event == "pipelining";
  EXPECT_EQ(n, 1);
}

TEST(SessionEnvelope, DsnAndBodyParametersAreRecorded) {
  const auto o = expect_dialogue(
      relay(),
      cat(kEhlo,
          {"C: MAIL FROM:<a@remote.example> BODY=8BITMIME RET=HDRS ENVID=abc+2B1", "S: 250 2.1.0",
           "C: RCPT TO:<alice@example.com> NOTIFY=FAILURE,DELAY ORCPT=rfc822;alice@x.example",
           "S: 250 2.1.5", "C: RCPT TO:<bob@example.com>", "S: 250 2.1.5", "C: DATA", "S: 354",
           "C: Subject: x", "C: ", "C: body", "C: .", "S: 250 2.0.0 Ok: queued"}));
  ASSERT_EQ(o.commits.size(), 1u);
  const Envelope& e = o.commits[0].envelope;
  EXPECT_EQ(e.mail_from, "a@remote.example");
  EXPECT_TRUE(e.eight_bit);
  EXPECT_EQ(e.dsn_ret, "HDRS");
  EXPECT_EQ(e.dsn_envid, "abc+2B1");
  EXPECT_EQ(e.client_ip, "192.0.2.7");
  EXPECT_EQ(e.helo, "client.example");
  ASSERT_EQ(e.recipients.size(), 2u);
  EXPECT_EQ(e.recipients[0].notify, "FAILURE,DELAY");
  EXPECT_EQ(e.recipients[0].orcpt, "rfc822;alice@x.example");
  EXPECT_EQ(e.recipients[1].notify, "");
  // Two recipients: the Received header names neither.
  EXPECT_EQ(o.commits[0].data.find("for <"), std::string::npos);
}

TEST(SessionEnvelope, Utf8AddressesNeedSmtputf8) {
  expect_dialogue(
      relay(), cat(kEhlo, {"C: MAIL FROM:<j\xC3\xB6rg@remote.example>", "S: 501 5.1.7",
                           "C: MAIL FROM:<j\xC3\xB6rg@remote.example> SMTPUTF8", "S: 250 2.1.0"}));
}

TEST(SessionEnvelope, RefusedRecipientsLeaveTheTransactionOpen) {
  expect_dialogue(
      relay(),
      cat(cat(kEhlo, kTxn),
          {"C: RCPT TO:<nobody@example.com>", "S: 550 5.1.1", "C: DATA",
           "S: 503 5.5.1 Error: need RCPT command", "C: RCPT TO:<alice@example.com>", "S: 250",
           "C: MAIL FROM:<b@remote.example>", "S: 503 5.5.1", "C: RSET", "S: 250 2.0.0",
           "C: RCPT TO:<alice@example.com>", "S: 503 5.5.1 Error: need MAIL command"}));
}

TEST(SessionEnvelope, EhloInTheMiddleAbandonsTheTransaction) {
  expect_dialogue(relay(), cat(cat(kEhlo, kTxn),
                               {"C: RCPT TO:<alice@example.com>", "S: 250", "C: EHLO again",
                                "S: 250", "C: DATA", "S: 503 5.5.1 Error: need MAIL command"}));
}

TEST(SessionCommands, ArgumentsWhereNoneBelong) {
  expect_dialogue(relay(),
                  cat(kEhlo, {"C: RSET now", "S: 501 5.5.4", "C: STARTTLS x", "S: 501 5.5.4",
                              "C: VRFY", "S: 501 5.5.4", "C: NOOP anything", "S: 250 2.0.0",
                              "C: HELP me", "S: 214 2.0.0"}));
}

TEST(SessionCommands, HttpVerbAloneIsNotAnHttpRequest) {
  expect_dialogue(relay(), {"C: GET", "S: 500 5.5.1", "C: NOOP", "S: 250"});
}

}  // namespace
}  // namespace postern::smtp::test
