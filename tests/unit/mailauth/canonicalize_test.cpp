// RFC 6376 §3.4 canonicalisation, including the example of §3.4.5.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

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

// RFC 6376 §3.4.3 and §3.4.4 read literally, line by line, with this
// module's choices for what the RFC leaves open (a bare LF ends a line, a
// bare CR is content, an unfinished last line gets its CRLF). Slow and
// obvious: the reference for the streaming canonicaliser and its fast path.
std::string reference_body(Canon canon, std::string_view body) {
  std::vector<std::string> lines;
  std::string line;
  bool open = false;
  for (char c : body) {
    if (c == '\n') {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(line);
      line.clear();
      open = false;
      continue;
    }
    line.push_back(c);
    open = true;
  }
  if (open) lines.push_back(line);
  if (canon == Canon::relaxed) {
    for (std::string& l : lines) {
      std::string r;
      for (char c : l) {
        const bool wsp = c == ' ' || c == '\t';
        if (wsp && !r.empty() && r.back() == ' ') continue;
        r.push_back(wsp ? ' ' : c);
      }
      while (!r.empty() && r.back() == ' ') r.pop_back();
      l = r;
    }
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::string out;
  for (const std::string& l : lines) out += l + "\r\n";
  if (canon == Canon::simple && out.empty()) out = "\r\n";
  return out;
}

std::string streamed(Canon canon, std::string_view body, std::size_t cut,
                     std::optional<std::uint64_t> limit = std::nullopt) {
  std::string out;
  BodyCanonicalizer c(
      canon, [&out](std::string_view s) { out.append(s); }, limit);
  c.update(body.substr(0, cut));
  c.update(body.substr(cut));
  c.finish();
  return out;
}

// Every body of up to 6 octets over SP, TAB, CR, LF and a letter, cut at
// every position: the fast path (whole verbatim lines, straight from the
// input) and the slow path (octet by octet) must agree with the reference
// wherever a chunk boundary falls, a CRLF split across chunks included.
TEST(Canonicalize, EveryShortBodyAtEveryCutMatchesTheReference) {
  const char alphabet[] = {'a', ' ', '\t', '\r', '\n'};
  std::string body;
  std::size_t checked = 0;
  for (std::size_t len = 0; len <= 6; ++len) {
    std::size_t total = 1;
    for (std::size_t i = 0; i < len; ++i) total *= sizeof alphabet;
    for (std::size_t n = 0; n < total; ++n) {
      body.clear();
      for (std::size_t i = 0, v = n; i < len; ++i, v /= sizeof alphabet) {
        body.push_back(alphabet[v % sizeof alphabet]);
      }
      for (Canon canon : {Canon::simple, Canon::relaxed}) {
        const std::string want = reference_body(canon, body);
        for (std::size_t cut = 0; cut <= body.size(); ++cut) {
          ASSERT_EQ(streamed(canon, body, cut), want)
              << (canon == Canon::simple ? "simple" : "relaxed") << " body of " << len
              << " octets, number " << n << ", cut at " << cut;
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 100000u);
}

// Longer bodies with verbatim runs, empty lines inside and at the end,
// white space to collapse, 8-bit, bare CR and LF; every cut, every l=.
TEST(Canonicalize, MessageLikeBodiesAtEveryCutAndLimit) {
  const std::string_view bodies[] = {
      "Hello world,\r\nthis is a line.\r\n\r\nAnd another one.\r\n",
      "a b c\r\n\r\n\r\nd e f\r\n\r\n\r\n",
      "x  y\r\nplain line\r\nz\t\r\n \r\n\r\n",
      "no final line end",
      "caf\xc3\xa9 au lait\r\n\r\n\xff\xfe\r\n",
      "bare\nLF line\nends\n\n",
      "CR\rinside\r\n\rlead\r\nend\r",
      "\r\n\r\nleading empty lines\r\n",
      " leading space\r\n  two\r\n\tt\r\n",
      "",
      "\r\n",
      "a\r\n\r\n",
  };
  for (std::string_view body : bodies) {
    for (Canon canon : {Canon::simple, Canon::relaxed}) {
      SCOPED_TRACE(std::string(body));
      const std::string want = reference_body(canon, body);
      for (std::size_t cut = 0; cut <= body.size(); ++cut) {
        ASSERT_EQ(streamed(canon, body, cut), want) << "cut at " << cut;
      }
      std::string out;
      BodyCanonicalizer c(canon, [&out](std::string_view s) { out.append(s); });
      for (char ch : body) c.update(std::string_view(&ch, 1));
      c.finish();
      EXPECT_EQ(out, want) << "one octet at a time";
      EXPECT_EQ(c.length(), want.size());
      for (std::uint64_t limit = 0; limit <= want.size() + 1; ++limit) {
        for (std::size_t cut = 0; cut <= body.size(); ++cut) {
          ASSERT_EQ(streamed(canon, body, cut, limit), want.substr(0, limit))
              << "l=" << limit << " cut at " << cut;
        }
      }
    }
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
