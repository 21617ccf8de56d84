#include "smtp/reply_reader.hpp"

#include <gtest/gtest.h>

namespace postern::smtp::client {
namespace {

using Result = ReplyReader::Result;

TEST(ReplyReader, MultiLineReplySplitAtEveryByte) {
  const std::string wire = "250-mx.test greets you\r\n250-SIZE 100\r\n250 PIPELINING\r\n354 go\r\n";
  for (std::size_t split = 0; split <= wire.size(); ++split) {
    ReplyReader reader;
    ServerReply r;
    reader.append(wire.substr(0, split));
    const Result first = reader.next(r);
    if (first == Result::incomplete) {
      reader.append(wire.substr(split));
      ASSERT_EQ(reader.next(r), Result::complete) << split;
    } else {
      ASSERT_EQ(first, Result::complete);
      reader.append(wire.substr(split));
    }
    EXPECT_EQ(r.code, 250);
    ASSERT_EQ(r.lines.size(), 3u);
    EXPECT_EQ(r.lines[0], "mx.test greets you");
    EXPECT_EQ(r.lines[2], "PIPELINING");
    ASSERT_EQ(reader.next(r), Result::complete);
    EXPECT_EQ(r.code, 354);
    EXPECT_EQ(reader.next(r), Result::incomplete);
  }
}

TEST(ReplyReader, BareLfAndCodeOnlyLines) {
  ReplyReader reader;
  ServerReply r;
  reader.append("220\n250-a\n250\n");
  ASSERT_EQ(reader.next(r), Result::complete);
  EXPECT_EQ(r.code, 220);
  EXPECT_EQ(r.summary(), "220");
  ASSERT_EQ(reader.next(r), Result::complete);
  EXPECT_EQ(r.summary(), "250 a");
}

TEST(ReplyReader, MalformedReplies) {
  for (const char* bad :
       {"hello\r\n", "25\r\n", "250-a\r\n251 b\r\n", "250_x\r\n", "650 x\r\n", "099 x\r\n"}) {
    ReplyReader reader;
    ServerReply r;
    reader.append(bad);
    EXPECT_EQ(reader.next(r), Result::malformed) << bad;
  }
}

TEST(ReplyReader, BoundsLineLengthAndLineCount) {
  ReplyReader reader;
  ServerReply r;
  reader.append("250 " + std::string(kMaxReplyLine, 'x'));
  EXPECT_EQ(reader.next(r), Result::malformed);

  ReplyReader many;
  std::string wire;
  for (std::size_t i = 0; i <= kMaxReplyLines; ++i) wire += "250-x\r\n";
  many.append(wire + "250 end\r\n");
  EXPECT_EQ(many.next(r), Result::malformed);
}

}  // namespace
}  // namespace postern::smtp::client
