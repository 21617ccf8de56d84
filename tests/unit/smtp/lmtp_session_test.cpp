// ClientSession in LMTP mode (RFC 2033) as scripted exchanges with an LMTP
// server shaped like Dovecot 2.3's: LHLO, pipelined MAIL/RCPT/DATA, one
// reply per accepted recipient after the data, several messages on one
// connection. Every script also runs split at every byte and one byte at a
// time, and is cut at every byte (the connection lost) to check that no
// recipient counts as delivered without its own complete 2xx.
#include <gtest/gtest.h>

#include "client_harness.hpp"
#include "smtp/client_session.hpp"

namespace postern::smtp::client {
namespace {

using delivery::Outcome;
using namespace test_support;  // Step, ScriptedPeer, DialogueRun, replay, kData
const std::string kBanner = "220 mail.example.test Dovecot ready.\r\n";
const std::string kLhlo =
    "250-mail.example.test\r\n250-8BITMIME\r\n250-CHUNKING\r\n250-ENHANCEDSTATUSCODES\r\n"
    "250-PIPELINING\r\n250 SMTPUTF8\r\n";

OutgoingMessage message(const std::vector<std::string>& rcpts) {
  return test_support::outgoing("someone@remote.example", rcpts, kData);
}

ClientSettings lmtp() {
  ClientSettings s;
  s.helo_name = "mx.example.test";
  s.tls = TlsPolicy::none;
  s.lmtp = true;
  return s;
}

const std::string kPipelined =
    "MAIL FROM:<someone@remote.example>\r\nRCPT TO:<carol@example.test>\r\n"
    "RCPT TO:<nobody@example.test>\r\nRCPT TO:<dave@example.test>\r\n"
    "RCPT TO:<erin@example.test>\r\nDATA\r\n";
const std::string kEnvelopeReplies =
    "250 2.1.0 OK\r\n250 2.1.5 OK\r\n550 5.1.1 <nobody@example.test> User doesn't exist\r\n"
    "250 2.1.5 OK\r\n250 2.1.5 OK\r\n354 OK\r\n";
// One reply per accepted recipient, in RCPT order: carol, dave, erin.
const std::string kDataReplies =
    "250 2.0.0 <carol@example.test> Saved\r\n"
    "452 4.2.2 <dave@example.test> Quota exceeded (mailbox for user is full)\r\n"
    "552 5.2.2 <erin@example.test> Quota exceeded\r\n";

std::vector<Step> script() {
  return {{kBanner, "LHLO mx.example.test\r\n"},
          {kLhlo, kPipelined},
          {kEnvelopeReplies, encode_data(kData)},
          // RSET leads the next pipelined group (RFC 2920 §3.1).
          {kDataReplies,
           "RSET\r\nMAIL FROM:<someone@remote.example>\r\nRCPT TO:<carol@example.test>\r\n"
           "DATA\r\n"},
          {"250 2.0.0 OK\r\n250 2.1.0 OK\r\n250 2.1.5 OK\r\n354 OK\r\n", encode_data(kData)},
          {"250 2.0.0 <carol@example.test> Saved\r\n", "QUIT\r\n"}};
}

void check_full(const DialogueRun& run) {
  ASSERT_FALSE(run.failed) << run.failed->reason;
  ASSERT_EQ(run.done.size(), 2u);
  const auto& first = run.done[0];
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first[0].outcome, Outcome::delivered);
  EXPECT_EQ(first[0].reply, "250 2.0.0 <carol@example.test> Saved");
  EXPECT_EQ(first[1].outcome, Outcome::permanent);  // refused at RCPT
  EXPECT_EQ(first[2].outcome, Outcome::transient);  // 452 after the data: retried
  EXPECT_EQ(first[2].reply.substr(0, 9), "452 4.2.2");
  EXPECT_EQ(first[3].outcome, Outcome::permanent);  // 552 after the data: bounced
  ASSERT_EQ(run.done[1].size(), 1u);
  EXPECT_EQ(run.done[1][0].outcome, Outcome::delivered);
}

TEST(LmtpSession, OneReplyPerRecipientAndTwoMessagesOnOneConnection) {
  const std::vector<OutgoingMessage> messages = {
      message(
          {"carol@example.test", "nobody@example.test", "dave@example.test", "erin@example.test"}),
      message({"carol@example.test"})};
  test_support::replay(lmtp(), messages, script(), check_full);
}

TEST(LmtpSession, LhloRefusedHasNoHeloFallback) {
  ScriptedPeer peer(lmtp(), {message({"carol@example.test"})});
  peer.play({{kBanner, "LHLO mx.example.test\r\n"}, {"500 5.5.1 Unknown command\r\n", "QUIT\r\n"}},
            0, false);
  ASSERT_FALSE(peer.run().mismatch) << peer.run().mismatch_text;
  ASSERT_TRUE(peer.run().failed);
  EXPECT_EQ(peer.run().failed->stage, Stage::ehlo);
  EXPECT_TRUE(peer.run().closed);
}

// The server goes away after every byte of the first transaction. A
// recipient is delivered only if its own complete 2xx arrived; everyone
// else stays queued (transient) or keeps their RCPT refusal.
TEST(LmtpSession, ConnectionLostAtEveryByte) {
  const std::string server = kBanner + kLhlo + kEnvelopeReplies + kDataReplies;
  const std::string carol_ok = "250 2.0.0 <carol@example.test> Saved\r\n";
  const std::size_t carol_done =
      kBanner.size() + kLhlo.size() + kEnvelopeReplies.size() + carol_ok.size();
  for (std::size_t len = 0; len < server.size(); ++len) {
    ScriptedPeer peer(lmtp(), {message({"carol@example.test", "nobody@example.test",
                                        "dave@example.test", "erin@example.test"})});
    peer.drain();
    // The greeting first, then the transaction's replies: a server answers
    // commands only once they were sent (the message goes out on Ready).
    const std::size_t greeting = kBanner.size() + kLhlo.size();
    peer.feed(server.substr(0, std::min(len, greeting)), 0);
    if (len > greeting) peer.feed(server.substr(greeting, len - greeting), 0);
    peer.session().peer_closed();
    peer.drain();
    const DialogueRun& run = peer.run();
    SCOPED_TRACE("lost after " + std::to_string(len) + " bytes");
    if (run.done.empty()) {
      // Lost before the transaction began: a connection failure.
      ASSERT_TRUE(run.failed);
      EXPECT_LT(len, kBanner.size() + kLhlo.size());
      continue;
    }
    ASSERT_EQ(run.done.size(), 1u);
    const auto& r = run.done[0];
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[0].outcome == Outcome::delivered, len >= carol_done);
    for (std::size_t i = 1; i < 4; ++i) EXPECT_NE(r[i].outcome, Outcome::delivered) << i;
    EXPECT_TRUE(run.closed);
  }
}

}  // namespace
}  // namespace postern::smtp::client
