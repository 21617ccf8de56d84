// RFC 6376 §3.4 canonicalisation, including the example of §3.4.5.
#include <gtest/gtest.h>

#include "mailauth/dkim/canonicalize.hpp"
#include "mailauth/dkim/message_view.hpp"

namespace postern::mailauth::dkim {
namespace {

std::string header(Canon c, std::string_view field) {
  std::string out;
  canonicalize_header(c, field, out);
  return out;
}

TEST(Canonicalize, Rfc6376Example) {
  // §3.4.5
  EXPECT_EQ(header(Canon::relaxed, "A: X\r\n"), "a:X\r\n");
  EXPECT_EQ(header(Canon::relaxed, "B : Y\t\r\n\tZ  \r\n"), "b:Y Z\r\n");
  EXPECT_EQ(header(Canon::simple, "B : Y\t\r\n\tZ  \r\n"), "B : Y\t\r\n\tZ  \r\n");
  const std::string body = " C \r\nD \t E\r\n\r\n\r\n";
  EXPECT_EQ(canonicalize_body(Canon::relaxed, body), " C\r\nD E\r\n");
  EXPECT_EQ(canonicalize_body(Canon::simple, body), " C \r\nD \t E\r\n");
}

struct BodyCase {
  std::string_view name;
  std::string_view body;
  std::string_view simple;
  std::string_view relaxed;
};

TEST(Canonicalize, BodyTable) {
  const BodyCase cases[] = {
      {"empty", "", "\r\n", ""},
      {"only empty lines", "\r\n\r\n\r\n", "\r\n", ""},
      {"no final CRLF", "abc", "abc\r\n", "abc\r\n"},
      {"trailing white space", "a \t \r\n", "a \t \r\n", "a\r\n"},
      {"white-space-only last lines", "a\r\n \r\n\t\r\n", "a\r\n \r\n\t\r\n", "a\r\n"},
      {"inner empty lines kept", "a\r\n\r\n\r\nb\r\n\r\n", "a\r\n\r\n\r\nb\r\n",
       "a\r\n\r\n\r\nb\r\n"},
      {"tabs inside", "a\t\tb\r\n", "a\t\tb\r\n", "a b\r\n"},
      {"leading white space", "  a\r\n", "  a\r\n", " a\r\n"},
      {"8-bit", "caf\xc3\xa9 \r\n", "caf\xc3\xa9 \r\n", "caf\xc3\xa9\r\n"},
      {"bare LF as line end", "a\nb\n\n", "a\r\nb\r\n", "a\r\nb\r\n"},
      {"bare CR is content", "a\rb\r\n", "a\rb\r\n", "a\rb\r\n"},
      {"CR at the very end", "a\r", "a\r\r\n", "a\r\r\n"},
      {"no CRLF after white space", "a ", "a \r\n", "a\r\n"},
  };
  for (const BodyCase& c : cases) {
    SCOPED_TRACE(std::string(c.name));
    EXPECT_EQ(canonicalize_body(Canon::simple, c.body), c.simple);
    EXPECT_EQ(canonicalize_body(Canon::relaxed, c.body), c.relaxed);
  }
}

// The streaming canonicaliser gives the same octets however the body is
// cut into pieces (STYLE habit 13: every split, and one byte at a time).
TEST(Canonicalize, EverySplitGivesTheSameResult) {
  const std::string body = " C \r\nD \t E\r\n\r\n\ra\r\n \r\n\r\nx  \t\r\n\r\n\r\n";
  for (Canon canon : {Canon::simple, Canon::relaxed}) {
    const std::string whole = canonicalize_body(canon, body);
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
      std::string out;
      BodyCanonicalizer c(canon, [&out](std::string_view s) { out.append(s); });
      c.update(std::string_view(body).substr(0, cut));
      c.update(std::string_view(body).substr(cut));
      c.finish();
      EXPECT_EQ(out, whole) << "cut at " << cut;
    }
    std::string out;
    BodyCanonicalizer c(canon, [&out](std::string_view s) { out.append(s); });
    for (char ch : body) c.update(std::string_view(&ch, 1));
    c.finish();
    EXPECT_EQ(out, whole);
  }
}

TEST(Canonicalize, LengthLimitCutsTheCanonicalBody) {
  std::string out;
  BodyCanonicalizer c(
      Canon::relaxed, [&out](std::string_view s) { out.append(s); }, 5);
  c.update("ab  cd\r\nef\r\n");
  c.finish();
  EXPECT_EQ(out, "ab cd");
  EXPECT_EQ(c.length(), 11u);
}

TEST(Canonicalize, LongBodiesPassThroughTheBuffer) {
  const std::string line(998, 'x');
  std::string body;
  for (int i = 0; i < 20; ++i) body += line + "\r\n";
  EXPECT_EQ(canonicalize_body(Canon::relaxed, body), body);
  EXPECT_EQ(canonicalize_body(Canon::simple, body + "\r\n\r\n"), body);
}

TEST(MessageView, FieldsAndBody) {
  const std::string m = "A: 1\r\nB: 2\r\n  more\r\nNoColon\r\nC : 3\r\n\r\nbody\r\n";
  const MessageView v = parse_message(m);
  ASSERT_EQ(v.fields.size(), 4u);
  EXPECT_EQ(v.fields[1].name, "B");
  EXPECT_EQ(v.fields[1].text, "B: 2\r\n  more\r\n");
  EXPECT_EQ(v.fields[1].value(), " 2\r\n  more");
  EXPECT_EQ(v.fields[2].name, "");
  EXPECT_EQ(v.fields[3].name, "C");
  EXPECT_EQ(v.body, "body\r\n");
  EXPECT_TRUE(parse_message("A: 1\r\n").body.empty());
  EXPECT_EQ(parse_message("\r\nonly body").body, "only body");
  EXPECT_TRUE(parse_message("\r\nonly body").fields.empty());
  EXPECT_TRUE(iequals("From", "fROM"));
  EXPECT_FALSE(iequals("From", "From "));
}

}  // namespace
}  // namespace postern::mailauth::dkim
