#include "control/local_submission.hpp"

#include <gtest/gtest.h>

#include "control/message_text.hpp"

namespace postern::control {
namespace {

LocalOrigin origin() {
  LocalOrigin o;
  o.uid = 33;
  o.hostname = "mx.example.test";
  o.unique = "1700000000.1.abcd.sendmail";
  o.when = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  return o;
}

constexpr const char* kReceived =
    "Received: from local (uid 33)\r\n\tby mx.example.test (postern sendmail);\r\n\t"
    "Tue, 14 Nov 2023 22:13:20 +0000\r\n";

TEST(LocalSubmission, AddsReceivedDateAndMessageIdToALfMessage) {
  const std::string out =
      prepare_local_message("To: bob@example.test\nSubject: hi\n\nline\n", origin());
  EXPECT_EQ(out, std::string(kReceived) +
                     "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
                     "Message-ID: <1700000000.1.abcd.sendmail@mx.example.test>\r\n"
                     "To: bob@example.test\r\nSubject: hi\r\n\r\nline\r\n");
}

TEST(LocalSubmission, ReceivedNamesTheQueueId) {
  LocalOrigin o = origin();
  o.queue_id = "1K21Q8ZZNW200PKW";
  EXPECT_TRUE(prepare_local_message("Subject: x\n\nbody\n", o)
                  .starts_with("Received: from local (uid 33)\r\n\tby mx.example.test (postern "
                               "sendmail) id 1K21Q8ZZNW200PKW;\r\n\t"));
}

TEST(LocalSubmission, KeepsExistingDateAndMessageId) {
  const std::string in =
      "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nmessage-id: <x@y>\r\n\r\nbody\r\n";
  EXPECT_EQ(prepare_local_message(in, origin()), std::string(kReceived) + in);
}

TEST(LocalSubmission, ContentWithoutHeadersStaysBody) {
  const std::string out = prepare_local_message("just text\nDate: no\n", origin());
  EXPECT_NE(out.find("Message-ID: <"), std::string::npos);
  EXPECT_NE(out.find(">\r\n\r\njust text\r\nDate: no\r\n"), std::string::npos) << out;
  // The added Date counts, the body's does not.
  EXPECT_EQ(header_values(out, "Date").size(), 1u);
}

TEST(LocalSubmission, EmptyHeaderSectionGetsNoSecondSeparator) {
  const std::string out = prepare_local_message("\nbody\n", origin());
  EXPECT_NE(out.find(">\r\n\r\nbody\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("\r\n\r\n\r\n"), std::string::npos) << out;
}

TEST(LocalSubmission, HostnameCannotBreakTheHeader) {
  LocalOrigin o = origin();
  o.hostname = "evil\r\nBcc: x@y";
  const std::string h = local_received_header(o);
  EXPECT_EQ(h.find("\r\nBcc"), std::string::npos) << h;
}

}  // namespace
}  // namespace postern::control
