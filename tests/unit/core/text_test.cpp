#include "core/text.hpp"

#include <gtest/gtest.h>

namespace postern {
namespace {

TEST(Text, CaseFoldingIsAsciiOnly) {
  EXPECT_EQ(ascii_lower("MAIL From:<A@B.Test>"), "mail from:<a@b.test>");
  EXPECT_EQ(ascii_upper("ehlo x"), "EHLO X");
  // Octets above 0x7f pass untouched whatever the locale (UTF-8 "É" stays).
  EXPECT_EQ(ascii_lower("\xc3\x89"), "\xc3\x89");
  EXPECT_TRUE(iequals("Message-ID", "message-id"));
  EXPECT_FALSE(iequals("Message-ID", "message-id:"));
  EXPECT_TRUE(istarts_with("Subject: x", "SUBJECT:"));
  EXPECT_FALSE(istarts_with("Subj", "subject"));
}

TEST(Text, WordsAndBlanks) {
  EXPECT_EQ(split_words("  AUTH\tPLAIN  LOGIN "),
            (std::vector<std::string>{"AUTH", "PLAIN", "LOGIN"}));
  EXPECT_TRUE(split_words(" \t ").empty());
  EXPECT_EQ(trim_blanks(" \tx y\t "), "x y");
  EXPECT_EQ(join({"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(join({}, ", "), "");
}

TEST(Text, NonAscii) {
  EXPECT_FALSE(has_non_ascii("plain text\r\n"));
  EXPECT_TRUE(has_non_ascii("j\xc3\xb6rg"));
}

}  // namespace
}  // namespace postern
