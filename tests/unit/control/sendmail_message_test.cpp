#include "control/sendmail_message.hpp"

#include <gtest/gtest.h>

#include "control/message_text.hpp"

namespace postern::control {
namespace {

using Strings = std::vector<std::string>;

SendmailRequest request(std::string message) {
  SendmailRequest r;
  r.message = std::move(message);
  r.sender = "www-data@mx.example.test";
  r.from_address = r.sender;
  return r;
}

TEST(Sendmail, PhpStyleMessageWithMinusT) {
  SendmailRequest r = request(
      "To: Bob <bob@example.test>\nSubject: Order\nCc: carol@example.test\n"
      "Bcc: secret@example.test, BOB@example.test\n\nHello\n.\nmore\n");
  r.recipients_from_headers = true;
  const SendmailMessage m = prepare_sendmail_message(r);
  ASSERT_TRUE(m.error.empty()) << m.error;
  EXPECT_EQ(m.recipients,
            (Strings{"bob@example.test", "carol@example.test", "secret@example.test"}));
  EXPECT_EQ(m.message,
            "From: www-data@mx.example.test\r\nTo: Bob <bob@example.test>\r\nSubject: Order\r\n"
            "Cc: carol@example.test\r\n\r\nHello\r\n.\r\nmore\r\n");
}

TEST(Sendmail, ArgumentsAddToHeaderRecipients) {
  SendmailRequest r = request("To: a@x.test\n\nb\n");
  r.recipients = {"z@x.test", "A@X.TEST"};
  r.recipients_from_headers = true;
  EXPECT_EQ(prepare_sendmail_message(r).recipients, (Strings{"z@x.test", "A@X.TEST"}));
}

TEST(Sendmail, WithoutMinusTHeadersAreNotRecipientsAndBccStays) {
  SendmailRequest r = request("To: a@x.test\nBcc: b@x.test\nFrom: me@x.test\n\nb\n");
  r.recipients = {"c@x.test"};
  const SendmailMessage m = prepare_sendmail_message(r);
  EXPECT_EQ(m.recipients, (Strings{"c@x.test"}));
  EXPECT_TRUE(has_header(m.message, "Bcc"));
  EXPECT_EQ(header_values(m.message, "From"), (Strings{"me@x.test"}));
}

TEST(Sendmail, NoRecipientsIsAnError) {
  SendmailRequest r = request("Subject: x\n\nb\n");
  EXPECT_FALSE(prepare_sendmail_message(r).error.empty());
  r.recipients_from_headers = true;
  EXPECT_NE(prepare_sendmail_message(r).error.find("To:"), std::string::npos);
}

TEST(Sendmail, FullNameForAnAddedFrom) {
  SendmailRequest r = request("Subject: x\n\nb\n");
  r.recipients = {"a@x.test"};
  r.full_name = "Web Shop";
  EXPECT_EQ(header_values(prepare_sendmail_message(r).message, "From"),
            (Strings{"Web Shop <www-data@mx.example.test>"}));
}

TEST(Sendmail, MessageWithoutHeadersGetsFromAndStaysBody) {
  SendmailRequest r = request("hello\n");
  r.recipients = {"a@x.test"};
  EXPECT_EQ(prepare_sendmail_message(r).message, "From: www-data@mx.example.test\r\n\r\nhello\r\n");
}

TEST(FromField, QuotesNamesThatNeedIt) {
  EXPECT_EQ(from_field_value("", "a@b"), "a@b");
  EXPECT_EQ(from_field_value("  ", "a@b"), "a@b");
  EXPECT_EQ(from_field_value("Ann Lee", "a@b"), "Ann Lee <a@b>");
  EXPECT_EQ(from_field_value("Lee, Ann", "a@b"), "\"Lee, Ann\" <a@b>");
  EXPECT_EQ(from_field_value("A \"B\" C", "a@b"), "\"A \\\"B\\\" C\" <a@b>");
  EXPECT_EQ(from_field_value("Evil\r\nBcc: x", "a@b"), "\"EvilBcc: x\" <a@b>");
}

}  // namespace
}  // namespace postern::control
