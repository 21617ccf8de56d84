#include "message/line_endings.hpp"

#include <gtest/gtest.h>

namespace postern::message {
namespace {

TEST(NormalizeLineEndings, BareCrAndLf) {
  EXPECT_EQ(normalize_line_endings("a\nb\rc\r\nd\r"), "a\r\nb\r\nc\r\nd\r\n");
  EXPECT_EQ(normalize_line_endings("\r\r\n\n"), "\r\n\r\n\r\n");
  EXPECT_EQ(normalize_line_endings(""), "");
}

TEST(ToCrlfLines, EveryLineEndBecomesCrlf) {
  EXPECT_EQ(to_crlf_lines("a\nb\n"), "a\r\nb\r\n");
  EXPECT_EQ(to_crlf_lines("a\r\nb\r\n"), "a\r\nb\r\n");
  EXPECT_EQ(to_crlf_lines("a\rb\r"), "a\r\nb\r\n");
  EXPECT_EQ(to_crlf_lines("a\n\rb"), "a\r\n\r\nb\r\n");
  EXPECT_EQ(to_crlf_lines("a\r\r\nb"), "a\r\n\r\nb\r\n");
  EXPECT_EQ(to_crlf_lines("no end"), "no end\r\n");
  EXPECT_EQ(to_crlf_lines(""), "");
  EXPECT_EQ(to_crlf_lines("\n"), "\r\n");
  EXPECT_EQ(to_crlf_lines(".\n..\n"), ".\r\n..\r\n");
}

}  // namespace
}  // namespace postern::message
