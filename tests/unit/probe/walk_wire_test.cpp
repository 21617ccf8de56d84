// Pure helpers of the walk: how AUTH lines are masked, which queue id a
// 250 names. (What the first bytes say is smtp/wire_detect, tested there.)
#include <gtest/gtest.h>

#include "probe/reply_queue_id.hpp"
#include "probe/transcript.hpp"

namespace postern::probe {
namespace {

TEST(MaskCommand, AuthArgumentsAreHidden) {
  EXPECT_EQ(mask_command("AUTH PLAIN AGFsaWNlAHNlY3JldA=="), "AUTH PLAIN ****");
  EXPECT_EQ(mask_command("auth plain AGFsaWNlAHNlY3JldA=="), "auth plain ****");
  EXPECT_EQ(mask_command("AUTH LOGIN YWxpY2U="), "AUTH LOGIN ****");
  EXPECT_EQ(mask_command("AUTH  XOAUTH2 dXNlcj1h"), "AUTH  XOAUTH2 ****");
  EXPECT_EQ(mask_command("AUTH LOGIN"), "AUTH LOGIN");
  EXPECT_EQ(mask_command("MAIL FROM:<a@b.test>"), "MAIL FROM:<a@b.test>");
  EXPECT_EQ(mask_command("EHLO client.test"), "EHLO client.test");
}

TEST(MaskCommand, TranscriptSecretLinesAreStars) {
  std::vector<TranscriptLine> lines;
  Transcript t([&](const TranscriptLine& l) { lines.push_back(l); });
  t.sent("AUTH PLAIN AGFsaWNlAHNlY3JldA==");
  t.sent_secret();
  t.received("235 ok");
  t.info("note");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].text, "AUTH PLAIN ****");
  EXPECT_EQ(lines[1].text, "****");
  EXPECT_EQ(lines[1].direction, TranscriptLine::Direction::sent);
  EXPECT_EQ(lines[2].direction, TranscriptLine::Direction::received);
  EXPECT_EQ(lines[3].direction, TranscriptLine::Direction::info);
  Transcript silent{TranscriptSink()};
  silent.sent("EHLO x");  // no sink: nothing happens, nothing crashes
}

TEST(QueueId, KnownServerStyles) {
  EXPECT_EQ(find_queue_id("250 2.0.0 Ok: queued as 4Xk2Lm0Bz1"), "4Xk2Lm0Bz1");
  EXPECT_EQ(find_queue_id("250 Ok: queued as 3F1A2B4C5D"), "3F1A2B4C5D");
  EXPECT_EQ(find_queue_id("250 OK id=1rAbCd-000Ab1-2x"), "1rAbCd-000Ab1-2x");
  EXPECT_EQ(find_queue_id("250 2.0.0 OK  1700000000 a1-20020a05600c.123 - gsmtp"),
            "a1-20020a05600c.123");
  EXPECT_EQ(find_queue_id("250 2.6.0 <ABC123@EXMB01.contoso.com> [InternalId=1234, "
                          "Hostname=EXMB01] Queued mail for delivery"),
            "<ABC123@EXMB01.contoso.com>");
  EXPECT_EQ(find_queue_id("250 2.0.0 4AMH1x2Q012345 Message accepted for delivery"),
            "4AMH1x2Q012345");
  EXPECT_EQ(find_queue_id("250 ok 1700000000 qp 12345"), "12345");
  EXPECT_EQ(find_queue_id("250 Ok 0100018bd3f2c0a1-5b2e6f3a-000000"),
            "0100018bd3f2c0a1-5b2e6f3a-000000");
  EXPECT_EQ(find_queue_id("250 2.0.0 queued as (ABCD1234)."), "ABCD1234");
}

TEST(QueueId, NoIdIsEmpty) {
  EXPECT_EQ(find_queue_id("250 2.0.0 Ok"), "");
  EXPECT_EQ(find_queue_id("250 2.0.0 Message accepted for delivery"), "");
  EXPECT_EQ(find_queue_id("250 Ok"), "");
  EXPECT_EQ(find_queue_id(""), "");
}

}  // namespace
}  // namespace postern::probe
