// The message `postern send` builds: headers, encoded-words, MIME parts.
#include <gtest/gtest.h>

#include "probe/mime_message.hpp"
#include "sasl/sasl.hpp"

namespace postern::probe {
namespace {

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

MessageSpec spec() {
  MessageSpec s;
  s.from = "alice@example.test";
  s.to = {"bob@example.test", "carol@example.test"};
  s.subject = "hello";
  s.body = "line one\nline two\n";
  s.date = std::chrono::system_clock::from_time_t(1795405523);  // 2026-11-23 03:45:23 UTC
  s.unique = "abc123";
  return s;
}

TEST(Mime, PlainMessageHeadersAndCrlf) {
  const std::string m = build_message(spec());
  EXPECT_EQ(m.rfind("Date: Mon, 23 Nov 2026 03:45:23 +0000\r\n", 0), 0u) << m;
  EXPECT_TRUE(contains(m, "\r\nMessage-ID: <abc123@example.test>\r\n")) << m;
  EXPECT_TRUE(contains(m, "\r\nFrom: alice@example.test\r\n"));
  EXPECT_TRUE(contains(m, "\r\nTo: bob@example.test,\r\n carol@example.test\r\n")) << m;
  EXPECT_TRUE(contains(m, "\r\nSubject: hello\r\n"));
  EXPECT_TRUE(contains(m, "\r\nMIME-Version: 1.0\r\n"));
  EXPECT_TRUE(contains(m, "charset=us-ascii"));
  EXPECT_TRUE(contains(m, "\r\n\r\nline one\r\nline two\r\n")) << m;
  // No bare LF anywhere.
  for (std::size_t i = 0; i < m.size(); ++i)
    if (m[i] == '\n') {
      ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << i;
    }
}

TEST(Mime, NonAsciiSubjectIsAnEncodedWord) {
  EXPECT_EQ(encode_header_text("plain"), "plain");
  EXPECT_EQ(encode_header_text("caf\xc3\xa9"), "=?utf-8?B?Y2Fmw6k=?=");
  // Long text: several words, none over 75 octets, no UTF-8 sequence split.
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "\xc3\xa9";  // 80 octets
  const std::string encoded = encode_header_text(long_text);
  std::string decoded;
  std::size_t start = 0;
  while ((start = encoded.find("=?utf-8?B?", start)) != std::string::npos) {
    const std::size_t end = encoded.find("?=", start + 10);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end + 2 - start, 75u);
    const auto part = sasl::base64_decode(encoded.substr(start + 10, end - start - 10));
    ASSERT_TRUE(part);
    EXPECT_NE(static_cast<unsigned char>(part->front()) & 0xC0, 0x80) << "split sequence";
    decoded += *part;
    start = end + 2;
  }
  EXPECT_EQ(decoded, long_text);
  MessageSpec s = spec();
  s.subject =
      "Gr\xc3\xbc\xc3\x9f"
      "e";
  EXPECT_TRUE(contains(build_message(s), "Subject: =?utf-8?B?"));
}

TEST(Mime, HeaderValuesCannotInjectLines) {
  MessageSpec s = spec();
  s.subject = "hi\r\nBcc: eve@example.test";
  const std::string m = build_message(s);
  EXPECT_FALSE(contains(m, "\r\nBcc:")) << m;
}

TEST(Mime, ExtraHeadersInOrder) {
  MessageSpec s = spec();
  s.headers = {{"X-Test", "one"}, {"X-Other", "two"}};
  const std::string m = build_message(s);
  const auto a = m.find("X-Test: one\r\n");
  const auto b = m.find("X-Other: two\r\n");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_LT(a, b);
}

TEST(Mime, HeaderOption) {
  std::pair<std::string, std::string> h;
  ASSERT_TRUE(parse_header_option("X-Campaign:  spring 2026", h));
  EXPECT_EQ(h.first, "X-Campaign");
  EXPECT_EQ(h.second, "spring 2026");
  EXPECT_FALSE(parse_header_option("no colon", h));
  EXPECT_FALSE(parse_header_option(": empty name", h));
  EXPECT_FALSE(parse_header_option("Bad Name: x", h));
  EXPECT_FALSE(parse_header_option("X-A: one\r\nX-B: two", h));
}

TEST(Mime, AttachmentsMakeMultipartMixedWithBase64) {
  MessageSpec s = spec();
  std::string binary;
  for (int i = 0; i < 300; ++i) binary += static_cast<char>(i & 0xFF);
  s.attachments = {{"data.bin", "application/octet-stream", binary},
                   {"r\xc3\xa9sum\xc3\xa9.pdf", "application/pdf", "%PDF"}};
  const std::string m = build_message(s);
  EXPECT_TRUE(contains(m, "Content-Type: multipart/mixed; boundary=\"=_postern_abc123\"")) << m;
  EXPECT_TRUE(contains(m, "\r\n--=_postern_abc123\r\nContent-Type: text/plain")) << m;
  EXPECT_TRUE(contains(m, "Content-Disposition: attachment; filename=\"data.bin\"")) << m;
  EXPECT_TRUE(contains(m, "filename*=utf-8''r%C3%A9sum%C3%A9.pdf")) << m;
  EXPECT_TRUE(contains(m, "Content-Transfer-Encoding: base64\r\n\r\n")) << m;
  EXPECT_TRUE(m.ends_with("\r\n--=_postern_abc123--\r\n")) << m;
  // The binary part decodes back byte for byte; lines are at most 76.
  const std::size_t start = m.find("\r\n\r\n", m.find("filename=\"data.bin\"")) + 4;
  const std::size_t end = m.find("\r\n--=_postern_abc123", start);
  std::string joined;
  std::size_t pos = start;
  while (pos < end) {
    const std::size_t eol = m.find("\r\n", pos);
    EXPECT_LE(eol - pos, 76u);
    joined += m.substr(pos, eol - pos);
    pos = eol + 2;
  }
  EXPECT_EQ(sasl::base64_decode(joined), binary);
}

TEST(Mime, NonAsciiBodyIsBase64Utf8) {
  MessageSpec s = spec();
  s.body =
      "gr\xc3\xbc\xc3\x9f"
      "e\n";
  const std::string m = build_message(s);
  EXPECT_TRUE(contains(m, "charset=utf-8\r\nContent-Transfer-Encoding: base64")) << m;
  EXPECT_TRUE(contains(m, sasl::base64_encode("gr\xc3\xbc\xc3\x9f"
                                              "e\r\n")))
      << m;
}

TEST(Mime, ContentTypeByExtension) {
  EXPECT_EQ(guess_content_type("report.PDF"), "application/pdf");
  EXPECT_EQ(guess_content_type("/tmp/a.b/photo.jpeg"), "image/jpeg");
  EXPECT_EQ(guess_content_type("notes.txt"), "text/plain");
  EXPECT_EQ(guess_content_type("archive.tar.gz"), "application/gzip");
  EXPECT_EQ(guess_content_type("noextension"), "application/octet-stream");
  EXPECT_EQ(guess_content_type(".bashrc"), "application/octet-stream");
  EXPECT_EQ(guess_content_type("x.unknownext"), "application/octet-stream");
  EXPECT_EQ(guess_content_type("/tmp/a.b/file"), "application/octet-stream");
}

TEST(Mime, Base64LinesOf76) {
  const std::string out = base64_lines(std::string(200, 'x'));
  EXPECT_EQ(out.find("\r\n"), 76u);
  EXPECT_TRUE(out.ends_with("\r\n"));
  EXPECT_EQ(base64_lines(""), "");
}

}  // namespace
}  // namespace postern::probe
