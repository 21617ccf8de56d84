// The mail transaction in ServerSession: MAIL and RCPT policy (submission
// ownership, relay decisions), size and recipient limits, DATA and BDAT,
// and the headers added to what is committed.
#include <gtest/gtest.h>

#include "message/date.hpp"
#include "message/header_section.hpp"
#include "unit/smtp/session_harness.hpp"

namespace postern::smtp::test {
namespace {

const std::vector<std::string> kEhlo = {"C: EHLO client.example", "S: 250"};
const std::vector<std::string> kSubmit = cat(kStartTls, kAuthAlice);

// The body of a committed message, after our added header lines.
std::string_view after_received(std::string_view data) {
  // Received is folded over several lines; the added headers end where the
  // client's first line starts.
  const auto pos = data.find("Subject:");
  return pos == std::string_view::npos ? data : data.substr(pos);
}

TEST(SessionMail, SubmissionNeedsAuthAndOwnedSender) {
  const auto o = expect_dialogue(
      submission(),
      cat(cat(kStartTls,
              {"C: MAIL FROM:<alice@example.com>", "S: 530 5.7.0 Authentication required"}),
          cat(kAuthAlice,
              {"C: MAIL FROM:<bob@example.com>", "S: 553 5.7.1 Sender address not owned by user",
               "C: MAIL FROM:<ALICE@example.com>", "S: 553 5.7.1",
               "C: MAIL FROM:<alice+tag@EXAMPLE.com>", "S: 250 2.1.0", "C: RSET", "S: 250",
               "C: MAIL FROM:<alice@example.com>", "S: 250 2.1.0",
               "C: MAIL FROM:<alice@example.com>", "S: 503 5.5.1"})));
  (void)o;
}

TEST(SessionMail, NullSenderAfterAuthIsAcceptedAndLogged) {
  const auto o = expect_dialogue(
      submission(),
      cat(kSubmit, {"C: MAIL FROM:<>", "S: 250 2.1.0", "C: RCPT TO:<x@remote.example>",
                    "S: 250 2.1.5", "C: DATA", "S: 354", "C: Subject: auto", "C: ", "C: away",
                    "C: .", "S: 250 2.0.0 Ok: queued as Q1"}));
  bool logged = false;
  for (const auto& l : o.logs) logged |= l.event == "null_sender";
  EXPECT_TRUE(logged);
  ASSERT_EQ(o.commits.size(), 1u);
  EXPECT_EQ(o.commits[0].envelope.mail_from, "");
  EXPECT_EQ(o.commits[0].envelope.auth_user, "alice@example.com");
}

TEST(SessionMail, SyntaxAndParameters) {
  auto s = relay();
  s.limits.max_message_size = 1000;
  expect_dialogue(
      s, cat(kEhlo,
             {"C: MAIL TO:<a@b.example>", "S: 501 5.5.4", "C: MAIL FROM:a@b.example", "S: 501 5.",
              "C: MAIL FROM:<a@@b>", "S: 501 5.1.7", "C: MAIL FROM:<a@b.example> FOO=1",
              "S: 555 5.5.4", "C: MAIL FROM:<a@b.example> SIZE=1001",
              "S: 552 5.3.4 Message size exceeds fixed maximum message size",
              "C: MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=x", "S: 250 2.1.0",
              "C: RCPT TO:<alice@example.com> NOTIFY=NEVER BAD=1", "S: 555 5.5.4", "C: RCPT TO:<>",
              "S: 501 5.1.3", "C: RSET", "S: 250"}));
}

TEST(SessionMail, MailNeedsHelo) {
  expect_dialogue(relay(), {"C: MAIL FROM:<a@b.example>", "S: 503 5.5.1", "C: DATA", "S: 503 5.5.1",
                            "C: RCPT TO:<alice@example.com>", "S: 503 5.5.1"});
}

TEST(SessionRcpt, RelayDecisions) {
  const auto o = expect_dialogue(
      relay(),
      cat(kEhlo,
          {"C: MAIL FROM:<a@remote.example>", "S: 250 2.1.0", "C: RCPT TO:<x@remote.example>",
           "S: 554 5.7.1 <x@remote.example>: Relay access denied",
           "C: RCPT TO:<nobody@example.com>",
           "S: 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown",
           "C: RCPT TO:<x%remote.example@example.com>", "S: 554 5.7.1",
           "C: RCPT TO:<remote.example!x@example.com>", "S: 554 5.7.1",
           "C: RCPT TO:<@example.com:x@remote.example>", "S: 554 5.7.1",
           "C: RCPT TO:<\"x@remote.example\"@example.com>", "S: 554 5.7.1",
           "C: RCPT TO:<alice@EXAMPLE.COM>", "S: 250 2.1.5", "C: RCPT TO:<carol@example.org>",
           "S: 250 2.1.5"}));
  (void)o;
}

TEST(SessionRcpt, RelayNetworksMayRelay) {
  auto s = relay();
  s.client_in_relay_networks = true;
  const auto o = expect_dialogue(
      s, cat(kEhlo, {"C: MAIL FROM:<a@remote.example>", "S: 250", "C: RCPT TO:<x@remote.example>",
                     "S: 250 2.1.5", "C: DATA", "S: 354", "C: hi", "C: .", "S: 250 2.0.0"}));
  ASSERT_EQ(o.commits.size(), 1u);
  EXPECT_EQ(o.commits[0].envelope.recipients.at(0).address, "x@remote.example");
}

TEST(SessionRcpt, SubmissionMaySendAnywhere) {
  expect_dialogue(submission(), cat(kSubmit, {"C: MAIL FROM:<alice@example.com>", "S: 250",
                                              "C: RCPT TO:<x@remote.example>", "S: 250 2.1.5"}));
}

TEST(SessionRcpt, MaxRecipientsAtTheLimitAndOneOver) {
  auto s = relay();
  s.limits.max_recipients = 3;
  const auto o = expect_dialogue(
      s, cat(kEhlo, {"C: MAIL FROM:<a@remote.example>", "S: 250", "C: RCPT TO:<alice@example.com>",
                     "S: 250", "C: RCPT TO:<bob@example.com>", "S: 250",
                     "C: RCPT TO:<carol@example.org>", "S: 250 2.1.5",
                     "C: RCPT TO:<alice+x@example.com>", "S: 452 4.5.3 Error: too many recipients",
                     "C: DATA", "S: 354", "C: x", "C: .", "S: 250 2.0.0"}));
  ASSERT_EQ(o.commits.size(), 1u);
  EXPECT_EQ(o.commits[0].envelope.recipients.size(), 3u);
}

// Postfix names the queue id in its Received header, so a header leads to
// the log lines; ours is allocated before the commit and handed to the
// spool with the message, and the 250 still waits for the commit.
TEST(SessionData, ReceivedNamesTheQueueIdTheSpoolWillUse) {
  auto s = relay();
  // The harness replays the dialogue split in many ways; each replay must
  // see the same id.
  s.allocate_queue_id = [] { return std::string("0QUEUEID1"); };
  const auto o = expect_dialogue(
      s, cat(kEhlo, {"C: MAIL FROM:<a@remote.example>", "S: 250", "C: RCPT TO:<alice@example.com>",
                     "S: 250", "C: DATA", "S: 354", "C: Subject: hello", "C: ", "C: body", "C: .",
                     "S: 250 2.0.0 Ok: queued as Q1"}));
  ASSERT_EQ(o.commits.size(), 1u);
  EXPECT_EQ(o.commits[0].queue_id, "0QUEUEID1");
  EXPECT_NE(o.commits[0].data.find("with ESMTP id 0QUEUEID1\r\n"), std::string::npos)
      << o.commits[0].data;
  EXPECT_NE(o.commits[0].data.find("session S1"), std::string::npos) << o.commits[0].data;
}

// A recipient named again in the same transaction, in any case of its
// domain, is accepted and delivered once; the local
// part keeps its case (RFC 5321 §2.4), so Alice@ is another recipient.
TEST(SessionRcpt, RepeatedRecipientIsKeptOnce) {
  auto s = relay();
  s.limits.max_recipients = 2;
  std::vector<std::string> lines = {"C: MAIL FROM:<a@remote.example>", "S: 250",
                                    "C: RCPT TO:<alice@example.com> NOTIFY=NEVER", "S: 250"};
  for (int i = 0; i < 100; ++i) {
    lines.push_back(i % 2 ? "C: RCPT TO:<alice@EXAMPLE.com>" : "C: RCPT TO:<alice@Example.Com>");
    lines.push_back("S: 250 2.1.5");
  }
  for (const char* more : {"C: RCPT TO:<bob@example.com>",
                           "S: 250 2.1.5",
                           "C: RCPT TO:<alice@example.com>",
                           "S: 250 2.1.5",
                           "C: RCPT TO:<carol@example.org>",
                           "S: 452 4.5.3",
                           "C: DATA",
                           "S: 354",
                           "C: x",
                           "C: .",
                           "S: 250 2.0.0",
                           "C: MAIL FROM:<a@remote.example>",
                           "S: 250",
                           "C: RCPT TO:<alice@example.com>",
                           "S: 250",
                           "C: DATA",
                           "S: 354",
                           "C: y",
                           "C: .",
                           "S: 250 2.0.0"}) {
    lines.push_back(more);
  }
  const auto o = expect_dialogue(s, cat(kEhlo, lines));
  ASSERT_EQ(o.commits.size(), 2u);
  const auto& first = o.commits[0].envelope.recipients;
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].address, "alice@example.com");
  EXPECT_EQ(first[0].notify, "NEVER");  // the first RCPT's parameters stay
  EXPECT_EQ(first[1].address, "bob@example.com");
  // The next transaction starts with nobody seen.
  ASSERT_EQ(o.commits[1].envelope.recipients.size(), 1u);
}

TEST(SessionData, CommitsWithReceivedHeader) {
  const auto o = expect_dialogue(
      relay(), cat(kEhlo, {"C: MAIL FROM:<a@remote.example> BODY=8BITMIME", "S: 250",
                           "C: RCPT TO:<alice@example.com>", "S: 250", "C: DATA",
                           "S: 354 End data with <CR><LF>.<CR><LF>", "C: Subject: hello",
                           "C: ", "C: ..dotted", "C: .", "S: 250 2.0.0 Ok: queued as Q1"}));
  ASSERT_EQ(o.commits.size(), 1u);
  const auto& c = o.commits[0];
  EXPECT_EQ(c.envelope.mail_from, "a@remote.example");
  EXPECT_TRUE(c.envelope.eight_bit);
  EXPECT_EQ(c.envelope.helo, "client.example");
  EXPECT_EQ(c.envelope.client_ip, "192.0.2.7");
  EXPECT_TRUE(c.data.starts_with("Received: from client.example ([192.0.2.7])\r\n")) << c.data;
  EXPECT_NE(c.data.find("with ESMTP id S1"), std::string::npos);
  EXPECT_NE(c.data.find("listener 127.0.0.1:2525 role relay"), std::string::npos);
  EXPECT_NE(c.data.find("for <alice@example.com>"), std::string::npos);
  EXPECT_EQ(c.data.find("cipher"), std::string::npos);
  EXPECT_EQ(c.data.find("authenticated"), std::string::npos);
  // Relay: no Date or Message-ID added.
  EXPECT_FALSE(message::has_header(c.data, "Date"));
  EXPECT_FALSE(message::has_header(c.data, "Message-ID"));
  EXPECT_EQ(after_received(c.data), "Subject: hello\r\n\r\n.dotted\r\n");
}

TEST(SessionData, SubmissionReceivedAndAddedHeaders) {
  const auto o = expect_dialogue(
      submission(), cat(kSubmit, {"C: MAIL FROM:<alice@example.com>", "S: 250",
                                  "C: RCPT TO:<x@remote.example>", "C: RCPT TO:<y@remote.example>",
                                  "C: DATA", "S: 250", "S: 250", "S: 354", "C: Subject: hi",
                                  "C: ", "C: Date: not a header here", "C: .", "S: 250 2.0.0"}));
  ASSERT_EQ(o.commits.size(), 1u);
  const std::string& d = o.commits[0].data;
  EXPECT_NE(d.find("with ESMTPSA id S1"), std::string::npos) << d;
  EXPECT_NE(d.find("TLSv1.3 cipher TLS_AES_128_GCM_SHA256"), std::string::npos) << d;
  EXPECT_NE(d.find("authenticated user alice@example.com"), std::string::npos) << d;
  EXPECT_NE(d.find("role submission"), std::string::npos) << d;
  EXPECT_EQ(d.find("for <"), std::string::npos) << "two recipients: no for clause";
  EXPECT_NE(d.find("\r\nDate: " + message::rfc5322_date(submission().now) + "\r\n"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("\r\nMessage-ID: <S1.1."), std::string::npos) << d;
  EXPECT_NE(d.find("@mx.example.com>\r\n"), std::string::npos) << d;
  EXPECT_TRUE(d.ends_with("Subject: hi\r\n\r\nDate: not a header here\r\n")) << d;
}

TEST(SessionData, SubmissionKeepsExistingDateAndMessageId) {
  const auto o = expect_dialogue(
      submission(), cat(kSubmit, {"C: MAIL FROM:<alice@example.com>", "S: 250",
                                  "C: RCPT TO:<x@remote.example>", "S: 250", "C: DATA", "S: 354",
                                  "C: subject: hi", "C: DATE: Mon, 1 Jan 2024 00:00:00 +0000",
                                  "C: message-id: <m@x>", "C: ", "C: b", "C: .", "S: 250 2.0.0"}));
  ASSERT_EQ(o.commits.size(), 1u);
  const std::string& d = o.commits[0].data;
  EXPECT_EQ(d.find("\r\nDate:"), std::string::npos) << d;
  EXPECT_EQ(d.find("\r\nMessage-ID:"), std::string::npos) << d;
}

TEST(SessionData, ContentWithoutHeaderSectionStaysBody) {
  const auto o = expect_dialogue(
      submission(),
      cat(kSubmit, {"C: MAIL FROM:<alice@example.com>", "S: 250", "C: RCPT TO:<x@remote.example>",
                    "S: 250", "C: DATA", "S: 354", "C: just text, no headers",
                    "C: Date: in the body", "C: .", "S: 250 2.0.0"}));
  ASSERT_EQ(o.commits.size(), 1u);
  const std::string& d = o.commits[0].data;
  // Our fields, then an empty line, then the client's text as body.
  EXPECT_TRUE(d.ends_with("\r\n\r\njust text, no headers\r\nDate: in the body\r\n")) << d;
  EXPECT_NE(d.find("\r\nDate: " + message::rfc5322_date(submission().now) + "\r\n"),
            std::string::npos)
      << d;
}

TEST(SessionData, EhloResetsTheTransaction) {
  expect_dialogue(
      relay(), cat(kEhlo, {"C: MAIL FROM:<a@b.example>", "S: 250", "C: RCPT TO:<alice@example.com>",
                           "S: 250", "C: EHLO again", "S: 250", "C: DATA", "S: 503 5.5.1",
                           "C: MAIL FROM:<a@b.example>", "S: 250 2.1.0"}));
}

TEST(SessionData, HeloGivesSmtpProtocol) {
  const auto o = expect_dialogue(relay(), {"C: HELO c", "S: 250", "C: MAIL FROM:<a@b.example>",
                                           "S: 250", "C: RCPT TO:<alice@example.com>", "S: 250",
                                           "C: DATA", "S: 354", "C: x", "C: .", "S: 250"});
  ASSERT_EQ(o.commits.size(), 1u);
  EXPECT_NE(o.commits[0].data.find("with SMTP id"), std::string::npos);
}

TEST(SessionData, StarttlsRelayGivesEsmtps) {
  const auto o = expect_dialogue(
      relay(TlsMode::starttls),
      cat(kStartTls, {"C: MAIL FROM:<a@b.example>", "S: 250", "C: RCPT TO:<alice@example.com>",
                      "S: 250", "C: DATA", "S: 354", "C: x", "C: .", "S: 250"}));
  ASSERT_EQ(o.commits.size(), 1u);
  EXPECT_NE(o.commits[0].data.find("with ESMTPS id"), std::string::npos);
  EXPECT_NE(o.commits[0].data.find("TLSv1.3 cipher TLS_AES_128_GCM_SHA256"), std::string::npos);
}

TEST(SessionData, DataNeedsRecipients) {
  expect_dialogue(relay(),
                  cat(kEhlo, {"C: DATA", "S: 503 5.5.1", "C: MAIL FROM:<a@b.example>", "S: 250",
                              "C: DATA", "S: 503 5.5.1", "C: DATA x", "S: 501 5.5.4"}));
}

TEST(SessionData, TwoMessagesInOneSession) {
  const auto o = expect_dialogue(relay(), cat(kEhlo, {"C: MAIL FROM:<a@b.example>",
                                                      "C: RCPT TO:<alice@example.com>",
                                                      "C: DATA",
                                                      "S: 250",
                                                      "S: 250",
                                                      "S: 354",
                                                      "C: one",
                                                      "C: .",
                                                      "C: MAIL FROM:<a@b.example>",
                                                      "C: RCPT TO:<bob@example.com>",
                                                      "C: DATA",
                                                      "S: 250 2.0.0 Ok: queued as Q1",
                                                      "S: 250",
                                                      "S: 250",
                                                      "S: 354",
                                                      "C: two",
                                                      "C: .",
                                                      "C: QUIT",
                                                      "S: 250 2.0.0 Ok: queued as Q2",
                                                      "S: 221"}));
  ASSERT_EQ(o.commits.size(), 2u);
  EXPECT_TRUE(o.commits[0].data.ends_with("\r\none\r\n"));
  EXPECT_TRUE(o.commits[1].data.ends_with("\r\ntwo\r\n"));
  EXPECT_EQ(o.commits[1].envelope.recipients.size(), 1u);
}

TEST(SessionData, EmptyMessage) {
  const auto o = expect_dialogue(
      relay(), cat(kEhlo, {"C: MAIL FROM:<a@b.example>", "S: 250", "C: RCPT TO:<alice@example.com>",
                           "S: 250", "C: DATA", "S: 354", "C: .", "S: 250 2.0.0"}));
  ASSERT_EQ(o.commits.size(), 1u);
  EXPECT_TRUE(o.commits[0].data.starts_with("Received:"));
  EXPECT_TRUE(o.commits[0].data.ends_with("\r\n"));
}

TEST(SessionData, BodySizeAtTheLimitAndOneOver) {
  auto s = relay();
  s.limits.max_message_size = 100;
  const std::string line98(98, 'a');  // 98 + CRLF = 100 octets stored
  const auto o =
      expect_dialogue(s, cat(kEhlo, {"C: MAIL FROM:<a@b.example>",
                                     "S: 250",
                                     "C: RCPT TO:<alice@example.com>",
                                     "S: 250",
                                     "C: DATA",
                                     "S: 354",
                                     "C: " + line98,
                                     "C: .",
                                     "S: 250 2.0.0",
                                     "C: MAIL FROM:<a@b.example>",
                                     "S: 250",
                                     "C: RCPT TO:<alice@example.com>",
                                     "S: 250",
                                     "C: DATA",
                                     "S: 354",
                                     "C: " + line98 + "a",
                                     "C: .",
                                     "S: 552 5.3.4 Message size exceeds fixed maximum message size",
                                     "C: RCPT TO:<alice@example.com>",
                                     "S: 503 5.5.1"}));
  ASSERT_EQ(o.commits.size(), 1u);
  EXPECT_TRUE(o.commits[0].data.ends_with("\r\n" + line98 + "\r\n"));
}

TEST(SessionData, HugeBodyIsNotHeld) {
  auto s = relay();
  s.limits.max_message_size = 1000;
  Harness h(s);
  h.start();
  h.feed("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n");
  const std::string chunk(4096, 'x');
  for (int i = 0; i < 100; ++i) {
    h.feed(chunk);
    EXPECT_EQ(h.session().buffered(), 0u);
    EXPECT_TRUE(h.session().receiving_message());
  }
  h.new_replies();
  h.feed("\r\n.\r\n");
  const auto r = h.new_replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].starts_with("552 5.3.4"));
  EXPECT_TRUE(h.outcome().commits.empty());
}

TEST(SessionBdat, ChunksAndLast) {
  const auto o = expect_dialogue(
      relay(), cat(kEhlo, {"C: MAIL FROM:<a@b.example>", "S: 250", "C: RCPT TO:<alice@example.com>",
                           "S: 250", "R: BDAT 12\r\nSubject: x\r\n", "S: 250 2.0.0",
                           "R: BDAT 8 LAST\r\n\r\nbody\r\n", "S: 250 2.0.0 Ok: queued as Q1",
                           "C: DATA", "S: 503 5.5.1"}));
  ASSERT_EQ(o.commits.size(), 1u);
  EXPECT_TRUE(o.commits[0].data.ends_with("\r\nSubject: x\r\n\r\nbody\r\n")) << o.commits[0].data;
}

TEST(SessionBdat, BdatZeroLastAndBareLineEnds) {
  const auto o = expect_dialogue(
      relay(), cat(kEhlo, {"C: MAIL FROM:<a@b.example>", "C: RCPT TO:<alice@example.com>",
                           "R: BDAT 8\r\na\nb\rc\r\n.", "S: 250", "S: 250", "S: 250 2.0.0",
                           "C: BDAT 0 LAST", "S: 250 2.0.0 Ok: queued as Q1"}));
  ASSERT_EQ(o.commits.size(), 1u);
  EXPECT_TRUE(o.commits[0].data.ends_with("\r\na\r\nb\r\nc\r\n.\r\n")) << o.commits[0].data;
}

TEST(SessionBdat, CrAtTheEndOfAChunkMeetsLfInTheNext) {
  const auto o = expect_dialogue(
      relay(), cat(kEhlo, {"C: MAIL FROM:<a@b.example>", "S: 250", "C: RCPT TO:<alice@example.com>",
                           "S: 250", "R: BDAT 2\r\na\r", "S: 250 2.0.0", "R: BDAT 3\r\n\nb\r",
                           "S: 250 2.0.0", "R: BDAT 1 LAST\r\n\r", "S: 250 2.0.0 Ok: queued"}));
  ASSERT_EQ(o.commits.size(), 1u);
  EXPECT_TRUE(o.commits[0].data.ends_with("\r\na\r\nb\r\n\r\n")) << o.commits[0].data;
}

TEST(SessionBdat, DataAfterBdatIsRefused) {
  expect_dialogue(
      relay(), cat(kEhlo, {"C: MAIL FROM:<a@b.example>", "S: 250", "C: RCPT TO:<alice@example.com>",
                           "S: 250", "R: BDAT 3\r\nabc", "S: 250 2.0.0", "C: DATA", "S: 503 5.5.1",
                           "C: BDAT 0 LAST", "S: 250 2.0.0 Ok: queued"}));
}

TEST(SessionBdat, WithoutTransactionTheChunkIsSkipped) {
  expect_dialogue(relay(),
                  cat(kEhlo, {"R: BDAT 6\r\nNOOP\r\n", "S: 503 5.5.1", "C: BDAT 0", "S: 503 5.5.1",
                              "C: BDAT x", "S: 501 5.5.4", "C: NOOP", "S: 250"}));
}

TEST(SessionBdat, SizeLimit) {
  auto s = relay();
  s.limits.max_message_size = 10;
  const auto o = expect_dialogue(
      s, cat(kEhlo,
             {"C: MAIL FROM:<a@b.example>", "S: 250", "C: RCPT TO:<alice@example.com>", "S: 250",
              "R: BDAT 8\r\n12345678", "S: 250", "R: BDAT 3 LAST\r\nabc", "S: 552 5.3.4",
              "C: MAIL FROM:<a@b.example>", "S: 250", "C: RCPT TO:<alice@example.com>", "S: 250",
              "R: BDAT 8 LAST\r\n12345678", "S: 250 2.0.0"}));
  ASSERT_EQ(o.commits.size(), 1u);
  EXPECT_TRUE(o.commits[0].data.ends_with("\r\n12345678\r\n")) << o.commits[0].data;
}

TEST(SessionBdat, SizeLimitCountsTheStoredLineEnds) {
  // Bare LFs are stored as CRLF; the limit applies to what is stored, as
  // it does for DATA.
  auto s = relay();
  s.limits.max_message_size = 10;
  const auto o = expect_dialogue(
      s, cat(kEhlo, {"C: MAIL FROM:<a@b.example>", "S: 250", "C: RCPT TO:<alice@example.com>",
                     "S: 250", "R: BDAT 10 LAST\r\n\n\n\n\n\n\n\n\n\n\n", "S: 552 5.3.4"}));
  EXPECT_TRUE(o.commits.empty());
}

TEST(SessionBdat, RefusedBeforeTlsAndTheChunkIsSkipped) {
  expect_dialogue(submission(TlsMode::starttls_required),
                  {"C: EHLO c", "S: 250", "R: BDAT 6 LAST\r\nNOOP\r\n", "S: 530 5.7.0",
                   "R: BDAT 4\r\nQUIT", "S: 530 5.7.0", "C: NOOP", "S: 250"});
}

TEST(SessionFailures, TooMuchInputWhileWaitingCloses) {
  Harness h(relay());
  ServerSession& s = h.session();
  s.start();
  s.feed("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nx\r\n.\r\n");
  (void)s.take_actions();
  EXPECT_FALSE(s.wants_input());
  std::string flood;
  while (flood.size() <= kMaxCommandLine + 64 * 1024) flood += "NOOP\r\n";
  s.feed(flood);
  EXPECT_TRUE(s.closed());
  EXPECT_EQ(s.buffered(), 0u);
  s.message_committed("Q1");
  for (const auto& a : s.take_actions()) {
    EXPECT_FALSE(std::holds_alternative<SendReply>(a)) << std::get<SendReply>(a).bytes;
  }
}

TEST(SessionFailures, CommitFailureAnswers452AndTheSessionGoesOn) {
  Script script;
  script.fail_step = 0;
  const auto o = expect_dialogue(
      relay(),
      cat(kEhlo,
          {"C: MAIL FROM:<a@b.example>", "S: 250", "C: RCPT TO:<alice@example.com>", "S: 250",
           "C: DATA", "S: 354", "C: x", "C: .", "S: 452 4.3.1 Insufficient system storage",
           "C: MAIL FROM:<a@b.example>", "S: 250", "C: RCPT TO:<alice@example.com>", "S: 250",
           "C: DATA", "S: 354", "C: x", "C: .", "S: 250 2.0.0 Ok: queued as Q1"}),
      script, Variants{true, false});
  EXPECT_EQ(o.committed_ids.size(), 1u);
}

TEST(SessionFailures, ResultsAfterThePeerLeftSayNothing) {
  Harness h(relay());
  ServerSession& s = h.session();
  s.start();
  s.feed("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nx\r\n.\r\n");
  (void)s.take_actions();
  EXPECT_FALSE(s.wants_input());
  s.timeout();
  auto a = s.take_actions();
  s.message_committed("Q9");
  for (auto& x : s.take_actions()) {
    EXPECT_FALSE(std::holds_alternative<SendReply>(x)) << std::get<SendReply>(x).bytes;
  }
  EXPECT_TRUE(s.closed());
}

// DKIM (SPEC §1.7): mail from submission and relay_networks clients is
// marked for signing; mail from the world is not. Content the signer
// refuses gets 550 5.6.0 and the session goes on.
TEST(SessionDkim, SignFlagFollowsWhoSends) {
  auto commit_of = [](SessionSettings st, bool auth) {
    ServerSession s(st, directory());
    s.start();
    std::string in = "EHLO c\r\n";
    if (auth) in += "AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==\r\n";
    s.feed(in);
    for (auto& a : s.take_actions()) {
      if (std::holds_alternative<VerifyCredentials>(a)) s.credentials_result(AuthOutcome::ok);
    }
    (void)s.take_actions();
    s.feed("MAIL FROM:<alice@example.com>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nx\r\n.\r\n");
    for (auto& a : s.take_actions()) {
      if (auto* c = std::get_if<CommitMessage>(&a)) return std::optional<bool>(c->sign);
    }
    return std::optional<bool>();
  };
  EXPECT_EQ(commit_of(relay(), false), false);
  SessionSettings trusted = relay();
  trusted.client_in_relay_networks = true;
  EXPECT_EQ(commit_of(trusted, false), true);
  SessionSettings sub = submission(TlsMode::none);
  sub.insecure_auth = true;
  EXPECT_EQ(commit_of(sub, true), true);
}

TEST(SessionDkim, RejectedContentAnswers550AndTheSessionGoesOn) {
  Harness h(relay());
  ServerSession& s = h.session();
  s.start();
  (void)s.take_actions();
  s.feed(
      "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n"
      "From: a@b.example\r\nFrom: c@b.example\r\n\r\nx\r\n.\r\n");
  (void)s.take_actions();
  s.message_rejected("the message has 2 From: header fields");
  std::vector<std::string> replies;
  for (auto& a : s.take_actions()) {
    if (auto* r = std::get_if<SendReply>(&a)) replies.push_back(r->bytes);
  }
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0], "550 5.6.0 the message has 2 From: header fields\r\n");
  EXPECT_TRUE(s.wants_input());
  s.feed("MAIL FROM:<a@b.example>\r\n");
  bool ok = false;
  for (auto& a : s.take_actions()) {
    if (auto* r = std::get_if<SendReply>(&a)) ok = r->bytes.starts_with("250 2.1.0");
  }
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace postern::smtp::test
