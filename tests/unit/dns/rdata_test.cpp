#include "dns/rdata.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace postern::dns {
namespace {

std::vector<unsigned char> bytes(std::initializer_list<int> list) {
  std::vector<unsigned char> out;
  for (int b : list) out.push_back(static_cast<unsigned char>(b));
  return out;
}

TEST(Rdata, TxtStringsAreJoinedWithNothingBetween) {
  const auto one = bytes({3, 'a', 'b', 'c'});
  EXPECT_EQ(parse_txt_rdata(one), "abc");
  const auto two = bytes({2, 'p', '=', 3, 'M', 'I', 'I', 0});
  EXPECT_EQ(parse_txt_rdata(two), "p=MII");
  const auto overrun = bytes({5, 'a', 'b'});
  EXPECT_FALSE(parse_txt_rdata(overrun));
  EXPECT_FALSE(parse_txt_rdata({}));
}

TEST(Rdata, NamesAreLowercasedWithoutTheRoot) {
  const auto name =
      bytes({4, 'M', 'a', 'i', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0});
  EXPECT_EQ(parse_name_rdata(name), "mail.example.com");
  const auto no_root = bytes({4, 'm', 'a', 'i', 'l'});
  EXPECT_FALSE(parse_name_rdata(no_root));
  const auto dot_in_label = bytes({3, 'a', '.', 'b', 0});
  EXPECT_FALSE(parse_name_rdata(dot_in_label));
}

}  // namespace
}  // namespace postern::dns
