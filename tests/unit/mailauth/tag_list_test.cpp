// RFC 6376 §3.2 tag lists.
#include <gtest/gtest.h>

#include "mailauth/dkim/base64.hpp"
#include "mailauth/dkim/tag_list.hpp"

namespace postern::mailauth::dkim {
namespace {

struct TagCase {
  std::string_view text;
  bool ok;
  std::vector<std::pair<std::string, std::string>> tags;
};

TEST(TagList, Table) {
  const TagCase cases[] = {
      {"", true, {}},
      {"v=1", true, {{"v", "1"}}},
      {"v=1;", true, {{"v", "1"}}},
      {" v = 1 ; a=rsa-sha256 ;\r\n\t", true, {{"v", "1"}, {"a", "rsa-sha256"}}},
      {"h=from : to;\r\n b=abc\r\n def", true, {{"h", "from : to"}, {"b", "abc\r\n def"}}},
      {"p=", true, {{"p", ""}}},
      {"x_y2=z", true, {{"x_y2", "z"}}},
      {"a=1;;b=2", false, {}},
      {"a=1; a=2", false, {}},  // a tag twice (§3.2)
      {"novalue", false, {}},
      {"2a=1", false, {}},
      {"=1", false, {}},
      {"a=\x7f", false, {}},
      {"V=1; v=2", true, {{"V", "1"}, {"v", "2"}}},  // names are case-sensitive
  };
  for (const TagCase& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    const TagList l = parse_tag_list(c.text);
    EXPECT_EQ(l.ok(), c.ok) << l.error;
    if (!c.ok) continue;
    ASSERT_EQ(l.tags.size(), c.tags.size());
    for (std::size_t i = 0; i < c.tags.size(); ++i) {
      EXPECT_EQ(l.tags[i].name, c.tags[i].first);
      EXPECT_EQ(l.tags[i].value, c.tags[i].second);
    }
  }
}

TEST(TagList, ValuesPointIntoTheText) {
  const std::string text = "a=1; b= xyz ;";
  const TagList l = parse_tag_list(text);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l.get("b")->data() - text.data(), 8);
  EXPECT_FALSE(l.get("c"));
}

TEST(Base64, RoundTripAndWhiteSpace) {
  for (std::string_view s : {"", "a", "ab", "abc", "abcd", "\xff\x00\x01"}) {
    EXPECT_EQ(*base64_decode(base64_encode(s)), s);
  }
  EXPECT_EQ(*base64_decode(" YW\r\n\tJj "), "abc");
  EXPECT_EQ(*base64_decode("YQ=="), "a");
  EXPECT_FALSE(base64_decode("YQ="));
  EXPECT_FALSE(base64_decode("Y=Q="));
  EXPECT_FALSE(base64_decode("YQ==\""));
  EXPECT_FALSE(base64_decode("Y==="));
}

}  // namespace
}  // namespace postern::mailauth::dkim
