#include "dns/idn.hpp"

#include <gtest/gtest.h>

namespace postern::dns {
namespace {

TEST(Idn, AsciiIsLowercasedAndPassesThrough) {
  EXPECT_EQ(to_a_label("Example.TEST"), "example.test");
  EXPECT_EQ(to_a_label("example.test."), "example.test");
}

TEST(Idn, Utf8BecomesALabel) {
  EXPECT_EQ(to_a_label("b\xc3\xbc"
                       "cher.example"),
            "xn--bcher-kva.example");
  EXPECT_EQ(to_a_label("B\xc3\x9c"
                       "CHER.example"),
            "xn--bcher-kva.example");
}

TEST(Idn, InvalidNamesAreRefused) {
  EXPECT_FALSE(to_a_label(""));
  EXPECT_FALSE(to_a_label("\xff\xfe.example"));  // not UTF-8
}

}  // namespace
}  // namespace postern::dns
