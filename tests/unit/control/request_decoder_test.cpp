#include "control/request_decoder.hpp"

#include <gtest/gtest.h>

namespace postern::control {
namespace {

using State = RequestDecoder::State;

constexpr std::size_t kMax = 4096;

std::string submit_bytes(const SubmitEnvelope& e, const std::string& message) {
  const std::string block = encode_submit_envelope(e);
  return format_request({Verb::submit, "", block.size(), message.size()}) + block + message;
}

struct Fed {
  State state;
  std::size_t used;
};

// Feeds `bytes` in pieces cut at `cuts` (offsets), the way reads arrive.
Fed feed_split(RequestDecoder& d, std::string_view bytes, std::vector<std::size_t> cuts) {
  cuts.push_back(bytes.size());
  std::size_t pos = 0;
  std::size_t used = 0;
  for (std::size_t cut : cuts) {
    if (cut < pos) continue;
    std::string_view piece = bytes.substr(pos, cut - pos);
    // Like a driver: unconsumed bytes are offered again with the next read.
    const std::size_t n = d.feed(piece);
    used += n;
    if (d.state() != State::need_more) return {d.state(), used};
    EXPECT_EQ(n, piece.size());
    pos = cut;
  }
  return {d.state(), used};
}

TEST(RequestDecoder, SimpleRequest) {
  RequestDecoder d(kMax);
  EXPECT_EQ(d.feed("HOLD 0ABC\n"), 10u);
  ASSERT_EQ(d.state(), State::complete);
  EXPECT_EQ(d.request().verb, Verb::hold);
  EXPECT_EQ(d.request().queue_id, "0ABC");
}

TEST(RequestDecoder, BytesAfterTheRequestAreNotConsumed) {
  RequestDecoder d(kMax);
  EXPECT_EQ(d.feed("FLUSH\nPING\n"), 6u);
  EXPECT_EQ(d.state(), State::complete);
  EXPECT_EQ(d.feed("PING\n"), 0u);
  EXPECT_EQ(d.request().verb, Verb::flush);
}

TEST(RequestDecoder, SubmitSplitAtEveryByte) {
  const SubmitEnvelope e{"alice@example.test", {"bob@example.test", "c@d.test"}};
  const std::string message = "Subject: hi\r\n\r\nbody\r\n.\r\n";
  const std::string bytes = submit_bytes(e, message) + "trailing";
  const std::size_t request_size = bytes.size() - 8;
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    RequestDecoder d(kMax);
    const Fed f = feed_split(d, bytes, {cut});
    ASSERT_EQ(f.state, State::complete) << cut << " " << d.error();
    EXPECT_EQ(f.used, request_size) << cut;
    EXPECT_EQ(d.envelope().sender, e.sender);
    EXPECT_EQ(d.envelope().recipients, e.recipients);
    EXPECT_EQ(d.message(), message);
  }
}

TEST(RequestDecoder, SubmitOneByteAtATime) {
  const std::string message(1000, 'x');
  const std::string bytes = submit_bytes({"", {"bob@example.test"}}, message);
  RequestDecoder d(kMax);
  for (char c : bytes) {
    ASSERT_EQ(d.state(), State::need_more);
    ASSERT_EQ(d.feed(std::string_view(&c, 1)), 1u);
  }
  ASSERT_EQ(d.state(), State::complete);
  EXPECT_EQ(d.envelope().sender, "");
  EXPECT_EQ(d.message(), message);
}

TEST(RequestDecoder, EmptyMessageCompletesAfterTheEnvelope) {
  RequestDecoder d(kMax);
  d.feed(submit_bytes({"a@b", {"c@d"}}, ""));
  EXPECT_EQ(d.state(), State::complete);
  EXPECT_EQ(d.message(), "");
}

TEST(RequestDecoder, MessageAtTheLimitAndOneOver) {
  {
    RequestDecoder d(kMax);
    d.feed(submit_bytes({"a@b", {"c@d"}}, std::string(kMax, 'x')));
    EXPECT_EQ(d.state(), State::complete);
  }
  RequestDecoder d(kMax);
  // Refused on the request line, before any of the message is held.
  const std::string bytes = submit_bytes({"a@b", {"c@d"}}, std::string(kMax + 1, 'x'));
  const std::size_t used = d.feed(bytes);
  EXPECT_EQ(d.state(), State::error);
  EXPECT_EQ(d.error_kind(), ErrorKind::data);
  EXPECT_EQ(used, bytes.find('\n') + 1);
}

TEST(RequestDecoder, OverlongLineIsRefusedWithoutHoldingIt) {
  RequestDecoder d(kMax);
  const std::string flood(kMaxRequestLine, 'A');
  EXPECT_EQ(d.feed(flood), flood.size());
  EXPECT_EQ(d.state(), State::need_more);
  EXPECT_EQ(d.feed("A"), 0u);
  EXPECT_EQ(d.state(), State::error);
  EXPECT_EQ(d.error_kind(), ErrorKind::usage);
}

TEST(RequestDecoder, BadEnvelopeIsAUsageError) {
  const std::string block = "FROM a@b\nTO c d\n";
  const std::string bytes = format_request({Verb::submit, "", block.size(), 3}) + block + "abc";
  RequestDecoder d(kMax);
  d.feed(bytes);
  EXPECT_EQ(d.state(), State::error);
  EXPECT_EQ(d.error_kind(), ErrorKind::usage);
  EXPECT_EQ(d.error(), "bad recipient");
}

TEST(RequestDecoder, EnvelopeShorterThanDeclaredEatsIntoTheMessage) {
  // The declared sizes rule: a lying client gets an envelope error, never a
  // message boundary of its choosing.
  const std::string bytes = "SUBMIT 20 5\nFROM a@b\nTO c@d\nhello";
  RequestDecoder d(kMax);
  d.feed(bytes);
  EXPECT_EQ(d.state(), State::error);
}

TEST(RequestDecoder, UnknownVerb) {
  RequestDecoder d(kMax);
  d.feed("EHLO x\n");
  EXPECT_EQ(d.state(), State::error);
  EXPECT_EQ(d.error(), "unknown request");
}

}  // namespace
}  // namespace postern::control
