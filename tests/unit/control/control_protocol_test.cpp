#include "control/control_protocol.hpp"

#include <gtest/gtest.h>

namespace postern::control {
namespace {

constexpr std::size_t kMax = 1000;

Request parse_ok(std::string_view line) {
  ParsedRequestLine p = parse_request_line(line, kMax);
  EXPECT_TRUE(p.request.has_value()) << line << ": " << p.error;
  return p.request.value_or(Request{});
}

TEST(RequestLine, EveryVerbRoundTrips) {
  for (const Request& r :
       {Request{Verb::ping, "", 0, 0}, Request{Verb::flush, "", 0, 0},
        Request{Verb::status, "", 0, 0}, Request{Verb::remove, "0ABCDEFGH123JKMN", 0, 0},
        Request{Verb::hold, "X1", 0, 0}, Request{Verb::release, "abc", 0, 0},
        Request{Verb::submit, "", 17, 1000}}) {
    const std::string line = format_request(r);
    ASSERT_EQ(line.back(), '\n');
    const Request back = parse_ok(std::string_view(line).substr(0, line.size() - 1));
    EXPECT_EQ(back.verb, r.verb) << line;
    EXPECT_EQ(back.queue_id, r.queue_id) << line;
    EXPECT_EQ(back.envelope_size, r.envelope_size) << line;
    EXPECT_EQ(back.message_size, r.message_size) << line;
  }
}

TEST(RequestLine, WireWords) {
  EXPECT_EQ(format_request({Verb::remove, "ID1", 0, 0}), "DELETE ID1\n");
  EXPECT_EQ(format_request({Verb::submit, "", 12, 34}), "SUBMIT 12 34\n");
  EXPECT_EQ(format_request({Verb::flush, "", 0, 0}), "FLUSH\n");
  EXPECT_EQ(format_request({Verb::status, "", 0, 0}), "STATUS\n");
}

TEST(RequestLine, ToleratesCrlf) {
  EXPECT_EQ(parse_ok("HOLD ABC\r").queue_id, "ABC");
}

TEST(RequestLine, RefusesMalformedLines) {
  for (const char* bad : {"",
                          "ping",
                          "PING x",
                          "FLUSH now",
                          "STATUS x",
                          "HOLD",
                          "HOLD ",
                          "HOLD a b",
                          "HOLD ../x",
                          "HOLD a/b",
                          "DELETE a\tb",
                          "RELEASE \xc3\xa9",
                          "SUBMIT",
                          "SUBMIT 1",
                          "SUBMIT 1 x",
                          "SUBMIT -1 5",
                          "SUBMIT +1 5",
                          "SUBMIT 1  5",
                          "SUBMIT 0 5",
                          "SUBMIT 99999999999999999999 5",
                          "SUBMIT 5 99999999999999999999",
                          " PING",
                          "QUIT"}) {
    const ParsedRequestLine p = parse_request_line(bad, kMax);
    EXPECT_FALSE(p.request.has_value()) << '"' << bad << '"';
    EXPECT_FALSE(p.error.empty()) << bad;
    EXPECT_EQ(p.kind, ErrorKind::usage) << bad;
  }
}

TEST(RequestLine, QueueIdLengthBound) {
  EXPECT_TRUE(parse_request_line("HOLD " + std::string(64, 'A'), kMax).request);
  EXPECT_FALSE(parse_request_line("HOLD " + std::string(65, 'A'), kMax).request);
}

TEST(RequestLine, MessageSizeAtTheLimitAndOneOver) {
  EXPECT_TRUE(parse_request_line("SUBMIT 10 1000", kMax).request);
  const ParsedRequestLine over = parse_request_line("SUBMIT 10 1001", kMax);
  EXPECT_FALSE(over.request);
  EXPECT_EQ(over.kind, ErrorKind::data);
}

TEST(RequestLine, EnvelopeSizeBound) {
  EXPECT_TRUE(
      parse_request_line("SUBMIT " + std::to_string(kMaxEnvelopeBlock) + " 1", kMax).request);
  EXPECT_FALSE(
      parse_request_line("SUBMIT " + std::to_string(kMaxEnvelopeBlock + 1) + " 1", kMax).request);
}

TEST(RequestLine, LengthBound) {
  const std::string at = "HOLD " + std::string(kMaxRequestLine - 5, 'A');
  EXPECT_EQ(parse_request_line(at, kMax).error, "not a queue id");
  EXPECT_EQ(parse_request_line(at + "A", kMax).error, "request line too long");
}

TEST(SubmitEnvelope, RoundTrip) {
  const SubmitEnvelope e{"alice@example.test", {"bob@example.test", "carol@elsewhere.test"}};
  const std::string block = encode_submit_envelope(e);
  EXPECT_EQ(block, "FROM alice@example.test\nTO bob@example.test\nTO carol@elsewhere.test\n");
  const DecodedEnvelope d = decode_submit_envelope(block);
  ASSERT_TRUE(d.envelope) << d.error;
  EXPECT_EQ(d.envelope->sender, e.sender);
  EXPECT_EQ(d.envelope->recipients, e.recipients);
}

TEST(SubmitEnvelope, NullSender) {
  const DecodedEnvelope d = decode_submit_envelope("FROM \nTO bob@example.test\n");
  ASSERT_TRUE(d.envelope) << d.error;
  EXPECT_EQ(d.envelope->sender, "");
}

TEST(SubmitEnvelope, RefusesMalformedBlocks) {
  for (const char* bad : {"", "FROM a@b\n", "TO a@b\n", "TO a@b\nFROM a@b\n", "FROM a@b\nTO c@d",
                          "FROM a@b\nTO \n", "FROM a@b\nTO c d\n", "FROM a b\nTO c@d\n",
                          "FROM\nTO c@d\n", "FROM a@b\nFROM a@b\nTO c@d\n", "FROM a@b\nCC c@d\n",
                          "FROM a@b\nTO c@d\r\n", "FROM a@b\nTO c@d\n\n"}) {
    const DecodedEnvelope d = decode_submit_envelope(bad);
    EXPECT_FALSE(d.envelope) << '"' << bad << '"';
    EXPECT_FALSE(d.error.empty()) << bad;
  }
}

TEST(SubmitEnvelope, LineLengthBound) {
  const std::string longest(kMaxEnvelopeLine - 5, 'a');
  EXPECT_TRUE(is_wire_address(longest));
  EXPECT_FALSE(is_wire_address(longest + "a"));
  EXPECT_TRUE(decode_submit_envelope("FROM x\nTO " + longest + "\n").envelope);
  EXPECT_FALSE(decode_submit_envelope("FROM x\nTO " + longest + "aa\n").envelope);
}

TEST(WireAddress, RefusesBlanksAndControlBytes) {
  EXPECT_TRUE(is_wire_address("user@example.test"));
  EXPECT_TRUE(is_wire_address("\xc3\xa9l\xc3\xa8ve@example.test"));
  for (const char* bad : {"a b@c", "a\rb@c", "a\nb@c", "a\tb@c", "a\x7f@c"}) {
    EXPECT_FALSE(is_wire_address(bad)) << bad;
  }
  EXPECT_FALSE(is_wire_address(std::string("a\0b", 3)));
}

TEST(Response, RoundTrips) {
  for (const Response& r :
       {ok_response(""), ok_response("0ABC queued"), error_response(ErrorKind::nouser, "x@y: no"),
        error_response(ErrorKind::tempfail, ""), error_response(ErrorKind::usage, "a b c")}) {
    const std::string line = format_response(r);
    ASSERT_EQ(line.back(), '\n');
    const auto back = parse_response_line(std::string_view(line).substr(0, line.size() - 1));
    ASSERT_TRUE(back) << line;
    EXPECT_EQ(back->ok, r.ok) << line;
    if (!r.ok) {
      EXPECT_EQ(back->kind, r.kind) << line;
    }
    EXPECT_EQ(back->text, r.text) << line;
  }
  EXPECT_EQ(format_response(ok_response("")), "OK\n");
  EXPECT_EQ(format_response(error_response(ErrorKind::notfound, "no such id")),
            "ERR notfound no such id\n");
}

TEST(Response, TextStaysOneBoundedLine) {
  const std::string line = format_response(error_response(ErrorKind::data, "a\r\nERR b\n"));
  EXPECT_EQ(line, "ERR data a??ERR b?\n");
  const std::string long_line = format_response(ok_response(std::string(5000, 'x')));
  EXPECT_EQ(long_line.size(), kMaxResponseLine + 1);
}

TEST(Response, RefusesGarbage) {
  for (const char* bad : {"", "ok", "OKAY", "ERR", "ERR bogus text", "250 2.0.0 Ok"}) {
    EXPECT_FALSE(parse_response_line(bad)) << bad;
  }
}

TEST(ErrorKinds, WordsRoundTrip) {
  for (ErrorKind k : {ErrorKind::usage, ErrorKind::data, ErrorKind::nouser, ErrorKind::notfound,
                      ErrorKind::tempfail, ErrorKind::software}) {
    EXPECT_EQ(error_kind_from_string(to_string(k)), k);
  }
}

}  // namespace
}  // namespace postern::control
