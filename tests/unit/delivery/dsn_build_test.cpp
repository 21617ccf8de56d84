// The bounce message itself (RFC 3464, RFC 6522): read back with a strict
// MIME reader, field by field.
#include "delivery/dsn.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "message/date.hpp"
#include "tools/mime_report.hpp"

namespace postern::delivery {
namespace {

using postern::testing::DsnReport;
using postern::testing::parse_dsn;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Clock = std::chrono::system_clock;

const std::string kOriginal =
    "From: Alice <alice@example.com>\r\n"
    "To: bob@remote.test\r\n"
    "Subject: quarterly numbers\r\n"
    "Message-ID: <orig-1@example.com>\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "--=_postern_dsn_Q1_0\r\n"  // a line that looks like our first boundary
    "the numbers are attached.\r\n";

DsnRequest request() {
  DsnRequest q;
  q.reporting_mta = "mail.example.com";
  q.sender = "alice@example.com";
  q.queue_id = "Q1";
  q.arrival = Clock::from_time_t(1700000000);  // Tue, 14 Nov 2023 22:13:20 +0000
  q.now = q.arrival + std::chrono::minutes(5);
  q.message_id = "<Q1.abc.bounce@mail.example.com>";
  DsnRecipient r;
  r.address = "bob@remote.test";
  r.reply = "550 5.1.1 <bob@remote.test>: Recipient address rejected: User unknown";
  r.remote_mta = "mx.remote.test[127.0.0.9]:2525";
  r.attempts = 1;
  r.last_attempt = q.now;
  q.recipients.push_back(r);
  q.original = kOriginal;
  return q;
}

DsnReport parse(const Dsn& dsn) {
  std::string error;
  auto report = parse_dsn(dsn.data, error);
  EXPECT_TRUE(report) << error << "\n---\n" << dsn.data;
  return report ? *report : DsnReport{};
}

TEST(Dsn, TopLevelFields) {
  const Dsn dsn = build_dsn(request());
  const DsnReport r = parse(dsn);
  EXPECT_EQ(r.message.get("from"), "Mail Delivery System <MAILER-DAEMON@mail.example.com>");
  EXPECT_EQ(r.message.get("to"), "<alice@example.com>");
  EXPECT_EQ(r.message.get("subject"), "Undelivered Mail Returned to Sender");
  EXPECT_EQ(r.message.get("date"), "Tue, 14 Nov 2023 22:18:20 +0000");
  EXPECT_EQ(r.message.get("message-id"), "<Q1.abc.bounce@mail.example.com>");
  EXPECT_EQ(r.message.get("auto-submitted"), "auto-replied");
  EXPECT_FALSE(dsn.eight_bit);
}

TEST(Dsn, BoundaryDoesNotOccurInTheOriginal) {
  const Dsn dsn = build_dsn(request());
  const DsnReport r = parse(dsn);
  const std::string type = *r.message.get("content-type");
  EXPECT_THAT(type, Not(HasSubstr("=_postern_dsn_Q1_0\"")));
  EXPECT_THAT(type, HasSubstr("boundary=\"=_postern_dsn_Q1_1\""));
  // The original comes back whole, its look-alike line included.
  EXPECT_EQ(r.parts[2].body, kOriginal);
}

TEST(Dsn, HumanPartSaysWhoFailedAndWhy) {
  const DsnReport r = parse(build_dsn(request()));
  EXPECT_EQ(r.parts[0].get("content-type"), "text/plain; charset=utf-8");
  const std::string& text = r.parts[0].body;
  EXPECT_THAT(text, HasSubstr("mail delivery system at mail.example.com"));
  EXPECT_THAT(text, HasSubstr("<bob@remote.test>: the address was refused"));
  EXPECT_THAT(text, HasSubstr("The server mx.remote.test said: 550 5.1.1"));
  EXPECT_THAT(text, HasSubstr("original message is attached"));
}

TEST(Dsn, DeliveryStatusFields) {
  DsnRequest q = request();
  q.envid = "QQ+2B314";
  q.recipients[0].orcpt = "rfc822;Bob+2BTag@remote.test";
  const DsnReport r = parse(build_dsn(q));
  EXPECT_EQ(r.parts[1].get("content-type"), "message/delivery-status");
  EXPECT_EQ(r.per_message.get("reporting-mta"), "dns; mail.example.com");
  EXPECT_EQ(r.per_message.get("arrival-date"), "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(r.per_message.get("original-envelope-id"), "QQ+314");
  ASSERT_EQ(r.per_recipient.size(), 1u);
  const auto& b = r.per_recipient[0];
  EXPECT_EQ(b.get("final-recipient"), "rfc822; bob@remote.test");
  EXPECT_EQ(b.get("original-recipient"), "rfc822; Bob+Tag@remote.test");
  EXPECT_EQ(b.get("action"), "failed");
  EXPECT_EQ(b.get("status"), "5.1.1");
  EXPECT_EQ(b.get("remote-mta"), "dns; mx.remote.test");
  EXPECT_EQ(b.get("diagnostic-code"),
            "smtp; 550 5.1.1 <bob@remote.test>: Recipient address rejected: User unknown");
  EXPECT_EQ(b.get("last-attempt-date"), "Tue, 14 Nov 2023 22:18:20 +0000");
}

TEST(Dsn, OptionalFieldsAreLeftOutWhenUnknown) {
  DsnRequest q = request();
  q.recipients[0].remote_mta.clear();
  q.recipients[0].reply = "5.1.3 mailbox name is not safe as a folder name";
  const DsnReport r = parse(build_dsn(q));
  EXPECT_FALSE(r.per_message.get("original-envelope-id"));
  const auto& b = r.per_recipient[0];
  EXPECT_FALSE(b.get("original-recipient"));
  EXPECT_FALSE(b.get("remote-mta"));
  EXPECT_EQ(b.get("status"), "5.1.3");
  // Our own error text is not an SMTP reply.
  EXPECT_EQ(b.get("diagnostic-code"), "X-Postern; 5.1.3 mailbox name is not safe as a folder name");
  EXPECT_THAT(r.parts[0].body, HasSubstr("The error was: 5.1.3"));
}

TEST(Dsn, SeveralRecipientsInOneReport) {
  DsnRequest q = request();
  DsnRecipient late;
  late.address = "carol@slow.test";
  late.reply = "4.4.7 message expired in the queue after 9 attempts; last error: 451 4.3.0 busy";
  late.expired = true;
  late.attempts = 9;
  q.recipients.push_back(late);
  q.now = q.arrival + std::chrono::hours(5 * 24);
  const DsnReport r = parse(build_dsn(q));
  ASSERT_EQ(r.per_recipient.size(), 2u);
  EXPECT_EQ(r.per_recipient[1].get("final-recipient"), "rfc822; carol@slow.test");
  EXPECT_EQ(r.per_recipient[1].get("status"), "4.4.7");
  EXPECT_EQ(r.per_recipient[1].get("action"), "failed");
  EXPECT_THAT(r.parts[0].body, HasSubstr("tried 9 times over 5 days"));
  EXPECT_THAT(r.parts[0].body, HasSubstr("following recipients"));
}

TEST(Dsn, HeadersOnlyWhenAskedOrLarge) {
  DsnRequest q = request();
  q.ret = "hdrs";
  Dsn dsn = build_dsn(q);
  DsnReport r = parse(dsn);
  EXPECT_FALSE(dsn.full_original);
  EXPECT_EQ(r.parts[2].get("content-type"), "text/rfc822-headers");
  EXPECT_EQ(r.parts[2].body,
            "From: Alice <alice@example.com>\r\nTo: bob@remote.test\r\nSubject: quarterly "
            "numbers\r\nMessage-ID: <orig-1@example.com>\r\n");
  EXPECT_THAT(r.parts[0].body, HasSubstr("headers of your original message"));

  q = request();
  const std::string big = "Subject: big\r\n\r\n" + std::string(2000, 'x').append("\r\n");
  std::string large;
  while (large.size() < 3000) large += std::string(80, 'y') + "\r\n";
  const std::string text = "Subject: big\r\n\r\n" + large;
  q.original = text;
  q.max_full_original = 1000;
  r = parse(build_dsn(q));
  EXPECT_EQ(r.parts[2].body, "Subject: big\r\n");
  // A body line over 998 octets cannot be returned as it is.
  q = request();
  q.original = big;
  r = parse(build_dsn(q));
  EXPECT_EQ(r.parts[2].get("content-type"), "text/rfc822-headers");
}

TEST(Dsn, LineEndingsOfTheOriginalBecomeCrlf) {
  DsnRequest q = request();
  const std::string lf = "Subject: lf\n\nbody\rmore\n";
  q.original = lf;
  const DsnReport r = parse(build_dsn(q));
  EXPECT_EQ(r.parts[2].body, "Subject: lf\r\n\r\nbody\r\nmore\r\n");
}

TEST(Dsn, LongRepliesAreFoldedAndControlCharactersDropped) {
  DsnRequest q = request();
  std::string reply = "550 5.7.1";
  for (int i = 0; i < 60; ++i) reply += " policy-word-" + std::to_string(i);
  reply += " " + std::string(1500, 'z') + "\r\nInjected: header";
  q.recipients[0].reply = reply;
  const Dsn dsn = build_dsn(q);
  const DsnReport r = parse(dsn);  // also checks every line is <= 998
  const auto code = r.per_recipient[0].get("diagnostic-code");
  ASSERT_TRUE(code);
  EXPECT_THAT(*code, StartsWith("smtp; 550 5.7.1 policy-word-0"));
  EXPECT_FALSE(r.per_recipient[0].get("injected"));
  EXPECT_EQ(r.per_recipient[0].get("status"), "5.7.1");
  EXPECT_THAT(r.parts[0].body, HasSubstr("refused the message for policy"));
}

TEST(Dsn, EightBitContentIsDeclared) {
  DsnRequest q = request();
  const std::string original = "Subject: caf\xc3\xa9\r\n\r\nd\xc3\xa9j\xc3\xa0 vu\r\n";
  q.original = original;
  Dsn dsn = build_dsn(q);
  EXPECT_TRUE(dsn.eight_bit);
  DsnReport r = parse(dsn);
  EXPECT_EQ(r.parts[2].get("content-transfer-encoding"), "8bit");
  EXPECT_EQ(r.parts[1].get("content-type"), "message/delivery-status");

  q = request();
  q.recipients[0].address = "j\xc3\xbcrgen@remote.test";
  dsn = build_dsn(q);
  r = parse(dsn);
  EXPECT_TRUE(dsn.eight_bit);
  EXPECT_EQ(r.parts[1].get("content-type"), "message/global-delivery-status");
  EXPECT_EQ(r.per_recipient[0].get("final-recipient"), "utf-8; j\xc3\xbcrgen@remote.test");
}

TEST(DsnStatus, FromTheReplyOrDerived) {
  EXPECT_EQ(dsn_status("550 5.1.1 no such user", false), "5.1.1");
  EXPECT_EQ(dsn_status("550-5.7.26 unauthenticated", false), "5.7.26");
  EXPECT_EQ(dsn_status("5.1.10 null MX", false), "5.1.10");
  EXPECT_EQ(dsn_status("554 transaction failed", false), "5.0.0");
  EXPECT_EQ(dsn_status("550 5.1.1234 too long a detail", false), "5.0.0");
  EXPECT_EQ(dsn_status("", false), "5.0.0");
  // A temporary code describes a failure only when the recipient expired.
  EXPECT_EQ(dsn_status("451 4.3.0 try later", false), "5.0.0");
  EXPECT_EQ(dsn_status("4.4.7 message expired in the queue", true), "4.4.7");
  EXPECT_EQ(dsn_status("timeout", true), "4.4.7");
  EXPECT_EQ(dsn_status("250 2.0.0 ok", false), "5.0.0");
}

TEST(DsnXtext, Decodes) {
  EXPECT_EQ(xtext_decode("a+2Bb+3Dc"), "a+b=c");
  EXPECT_EQ(xtext_decode("plain"), "plain");
  EXPECT_EQ(xtext_decode("bad+zz+2"), "bad+zz+2");
  EXPECT_EQ(xtext_decode("x+0D+0AInjected: y"), "x Injected: y");
}

TEST(DsnDate, Rfc5322) {
  EXPECT_EQ(message::rfc5322_date(Clock::from_time_t(0)), "Thu, 01 Jan 1970 00:00:00 +0000");
}

}  // namespace
}  // namespace postern::delivery
