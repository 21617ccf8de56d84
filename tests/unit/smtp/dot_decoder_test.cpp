// DotDecoder (RFC 5321 §4.1.1.4, §4.5.2; line-end normalising is tested in
// tests/unit/message) and the SMTP smuggling variants, on the decoder and through a whole session.
#include "smtp/dot_decoder.hpp"

#include <gtest/gtest.h>

#include "unit/smtp/session_harness.hpp"

namespace postern::smtp {
namespace {

struct Decoded {
  std::string out;
  std::size_t used = 0;
  bool done = false;
  bool overflowed = false;
};

// Feeds `in` in pieces cut at `cuts` (sorted positions).
Decoded decode(std::string_view in, std::size_t limit, std::vector<std::size_t> cuts = {}) {
  DotDecoder d;
  Decoded r;
  std::size_t pos = 0;
  cuts.push_back(in.size());
  for (std::size_t cut : cuts) {
    if (d.done()) break;
    const std::size_t n = d.feed(in.substr(pos, cut - pos), r.out, limit);
    r.used += n;
    if (n < cut - pos) {
      EXPECT_TRUE(d.done()) << "stopped early without being done";
    }
    pos = cut;
  }
  r.done = d.done();
  r.overflowed = d.overflowed();
  return r;
}

// Every split of `in` gives the same result as feeding it whole.
Decoded decode_all_splits(std::string_view in, std::size_t limit = 1 << 20) {
  const Decoded whole = decode(in, limit);
  for (std::size_t cut = 1; cut < in.size(); ++cut) {
    const Decoded d = decode(in, limit, {cut});
    EXPECT_EQ(d.out, whole.out) << "split at " << cut;
    EXPECT_EQ(d.used, whole.used) << "split at " << cut;
    EXPECT_EQ(d.done, whole.done) << "split at " << cut;
    EXPECT_EQ(d.overflowed, whole.overflowed) << "split at " << cut;
  }
  std::vector<std::size_t> each;
  for (std::size_t i = 1; i < in.size(); ++i) each.push_back(i);
  const Decoded bytes = decode(in, limit, each);
  EXPECT_EQ(bytes.out, whole.out) << "one byte at a time";
  EXPECT_EQ(bytes.used, whole.used) << "one byte at a time";
  return whole;
}

TEST(DotDecoder, EndMarkerAndUnstuffing) {
  const std::string message = "Subject: x\r\n\r\n..a\r\n..\r\nb.\r\n.\r\n";
  const auto d = decode_all_splits(message + "NOOP\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.out, "Subject: x\r\n\r\n.a\r\n.\r\nb.\r\n");
  EXPECT_EQ(d.used, message.size());
}

TEST(DotDecoder, FirstEndMarkerEnds) {
  const auto d = decode_all_splits("a\r\n.\r\nMAIL FROM:<x@y>\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.out, "a\r\n");
  EXPECT_EQ(d.used, 6u);
}

TEST(DotDecoder, EmptyMessage) {
  const auto d = decode_all_splits(".\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.out, "");
  EXPECT_EQ(d.used, 3u);
}

TEST(DotDecoder, NotDoneWithoutEnd) {
  const auto d = decode_all_splits("a\r\nb\r\n.");
  EXPECT_FALSE(d.done);
  EXPECT_EQ(d.used, 7u);
}

TEST(DotDecoder, SmugglingVariantsNeverEnd) {
  for (const char* variant :
       {"\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\r", "\r.\r", "\n.\r", "\r\n.\r\r\n"}) {
    const std::string in = std::string("hello") + variant + "MAIL FROM:<evil@x>\r\nbye\r\n.\r\n";
    const auto d = decode_all_splits(in);
    EXPECT_TRUE(d.done) << testing::PrintToString(variant);
    EXPECT_EQ(d.used, in.size()) << testing::PrintToString(variant);
    EXPECT_NE(d.out.find("MAIL FROM:<evil@x>\r\nbye\r\n"), std::string::npos)
        << testing::PrintToString(d.out);
    EXPECT_TRUE(test::no_bare_line_ends(d.out)) << testing::PrintToString(d.out);
  }
}

TEST(DotDecoder, BareLineEndsBecomeCrlf) {
  EXPECT_EQ(decode_all_splits("a\nb\rc\r\r\nd\n\n.\r\n").out, "a\r\nb\r\nc\r\n\r\nd\r\n\r\n.\r\n");
  // After a bare LF the next byte is not at a line start: the dot stays.
  EXPECT_EQ(decode_all_splits("a\n..\r\n.\r\n").out, "a\r\n..\r\n");
}

TEST(DotDecoder, LimitAtExactlyMaxAndOneOver) {
  const std::string body = std::string(8, 'x') + "\r\n";  // 10 octets stored
  auto at = decode_all_splits(body + ".\r\n", 10);
  EXPECT_TRUE(at.done);
  EXPECT_FALSE(at.overflowed);
  EXPECT_EQ(at.out, body);
  auto over = decode_all_splits("x" + body + ".\r\nNOOP", 10);
  EXPECT_TRUE(over.done);
  EXPECT_TRUE(over.overflowed);
  EXPECT_LE(over.out.size(), 10u);
  EXPECT_EQ(over.used, body.size() + 4);
}

TEST(DotDecoder, ResetStartsOver) {
  DotDecoder d;
  std::string out;
  d.feed("a\r\n.\r\n", out, 100);
  EXPECT_TRUE(d.done());
  d.reset();
  EXPECT_FALSE(d.done());
  out.clear();
  EXPECT_EQ(d.feed(".\r\n", out, 100), 3u);
  EXPECT_TRUE(d.done());
}

// The same variants through the whole session: the smuggled transaction is
// message text, the session answers with exactly one 250 for one commit.
TEST(DotDecoderSession, SmugglingYieldsOneCommit) {
  for (const char* variant : {"\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\r"}) {
    SCOPED_TRACE(testing::PrintToString(variant));
    const auto o = test::expect_dialogue(
        test::relay(),
        {"C: EHLO c", "S: 250", "C: MAIL FROM:<a@b.example>", "S: 250",
         "C: RCPT TO:<alice@example.com>", "S: 250", "C: DATA", "S: 354",
         std::string("R: Subject: x\r\n\r\nhello") + variant +
             "MAIL FROM:<evil@remote.example>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n"
             "smuggled\r\n.\r\n",
         "S: 250 2.0.0 Ok: queued as Q1", "C: QUIT", "S: 221"});
    ASSERT_EQ(o.commits.size(), 1u);
    const std::string& d = o.commits[0].data;
    EXPECT_NE(d.find("MAIL FROM:<evil@remote.example>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n"
                     "smuggled\r\n"),
              std::string::npos)
        << testing::PrintToString(d);
    EXPECT_TRUE(test::no_bare_line_ends(d)) << testing::PrintToString(d);
    EXPECT_EQ(o.commits[0].envelope.recipients.size(), 1u);
  }
}

}  // namespace
}  // namespace postern::smtp
