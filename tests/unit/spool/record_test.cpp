#include <gtest/gtest.h>

#include <set>

#include "spool/crc32.hpp"
#include "spool/queue_id.hpp"
#include "spool/record.hpp"

namespace postern::spool {
namespace {

TEST(Crc32, MatchesTheStandardCheckValue) {
  // The check value every CRC-32/ISO-HDLC implementation must produce.
  EXPECT_EQ(crc32("123456789"), 0xCBF43926U);
  EXPECT_EQ(crc32(""), 0U);
}

TEST(Crc32, ContinuesAcrossPiecesAtEverySplit) {
  const std::string text = "The quick brown fox jumps over the lazy dog, twice over the fence.";
  const std::uint32_t whole = crc32(text);
  for (std::size_t i = 0; i <= text.size(); ++i) {
    EXPECT_EQ(crc32(std::string_view(text).substr(i), crc32(std::string_view(text).substr(0, i))),
              whole)
        << "split at " << i;
  }
}

TEST(QueueId, IsShortFileNameSafeUniqueAndSortedByTime) {
  QueueIdGenerator gen;
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 20000; ++i) {
    const std::string id = gen.next();
    ASSERT_EQ(id.size(), 16U);
    ASSERT_TRUE(is_queue_id(id)) << id;
    ASSERT_GT(id, previous);
    ASSERT_TRUE(seen.insert(id).second);
    previous = id;
  }
}

TEST(QueueId, StaysIncreasingWhenTheClockStepsBack) {
  QueueIdGenerator gen;
  const auto t = std::chrono::system_clock::now();
  const std::string a = gen.next(t);
  const std::string b = gen.next(t - std::chrono::seconds(30));
  const std::string c = gen.next(t);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST(QueueId, RejectsOtherShapes) {
  EXPECT_FALSE(is_queue_id(""));
  EXPECT_FALSE(is_queue_id("0123456789ABCDE"));
  EXPECT_FALSE(is_queue_id("0123456789ABCDEI"));  // I is not in the alphabet
  EXPECT_FALSE(is_queue_id("../../etc/passwd0"));
}

QueuedMessage sample() {
  QueuedMessage m;
  m.id = "01ABCDEFGHJKMNPQ";
  m.arrival = std::chrono::system_clock::time_point(std::chrono::microseconds(1700000000123456));
  m.size = 42;
  m.envelope.mail_from = "sender@example.org";
  m.envelope.recipients = {{"a@example.com", "SUCCESS,FAILURE", "rfc822;a@example.com"},
                           {"b@example.net", "", ""}};
  m.envelope.auth_user = "sender@example.org";
  m.envelope.client_ip = "192.0.2.1";
  m.envelope.helo = "client";
  m.envelope.smtputf8 = true;
  m.envelope.dsn_ret = "HDRS";
  m.envelope.dsn_envid = "xyz";
  return m;
}

TEST(Record, EnvelopeRoundTrips) {
  const QueuedMessage m = sample();
  QueuedMessage back;
  ASSERT_TRUE(decode_envelope_payload(encode_envelope_payload(m), back));
  EXPECT_EQ(back.id, m.id);
  EXPECT_EQ(back.arrival, m.arrival);
  EXPECT_EQ(back.size, 42U);
  EXPECT_EQ(back.envelope.mail_from, "sender@example.org");
  ASSERT_EQ(back.recipients.size(), 2U);
  EXPECT_EQ(back.recipients[0].recipient.notify, "SUCCESS,FAILURE");
  EXPECT_EQ(back.recipients[0].recipient.orcpt, "rfc822;a@example.com");
  EXPECT_EQ(back.recipients[1].state, RecipientState::pending);
  EXPECT_TRUE(back.envelope.smtputf8);
  EXPECT_FALSE(back.envelope.eight_bit);
  EXPECT_EQ(back.envelope.dsn_ret, "HDRS");
  EXPECT_EQ(back.envelope.dsn_envid, "xyz");
}

// A DMARC p=quarantine failure (SPEC §1.8) keeps its Junk flag across a
// restart; records without the flag read back without it.
TEST(Record, JunkFlagRoundTrips) {
  QueuedMessage m = sample();
  QueuedMessage back;
  ASSERT_TRUE(decode_envelope_payload(encode_envelope_payload(m), back));
  EXPECT_FALSE(back.envelope.junk);
  m.envelope.junk = true;
  ASSERT_TRUE(decode_envelope_payload(encode_envelope_payload(m), back));
  EXPECT_TRUE(back.envelope.junk);
  EXPECT_TRUE(back.envelope.smtputf8);
}

TEST(Record, TruncatedEnvelopeIsRejectedAtEveryLength) {
  const std::string payload = encode_envelope_payload(sample());
  for (std::size_t n = 0; n < payload.size(); ++n) {
    QueuedMessage back;
    EXPECT_FALSE(decode_envelope_payload(std::string_view(payload).substr(0, n), back)) << n;
  }
}

TEST(Record, StateAppliesOnlyToItsMessage) {
  QueuedMessage m;
  ASSERT_TRUE(decode_envelope_payload(encode_envelope_payload(sample()), m));
  QueuedMessage changed = m;
  changed.recipients[0].state = RecipientState::delivered;
  changed.recipients[0].attempts = 1;
  changed.recipients[1].last_reply = "451 try later";
  changed.recipients[1].attempts = 3;
  changed.held = true;
  const std::string payload = encode_state_payload(changed);
  QueuedMessage other = m;
  other.id = "01ABCDEFGHJKMNPR";
  EXPECT_FALSE(apply_state_payload(payload, other));
  ASSERT_TRUE(apply_state_payload(payload, m));
  EXPECT_EQ(m.recipients[0].state, RecipientState::delivered);
  EXPECT_EQ(m.recipients[1].attempts, 3);
  EXPECT_EQ(m.recipients[1].last_reply, "451 try later");
  EXPECT_TRUE(m.held);
  EXPECT_EQ(record_queue_id(payload), m.id);
}

TEST(Record, CarriesTypeLengthAndChecksum) {
  const std::string r = encode_record(RecordType::commit, encode_commit_payload(7));
  ASSERT_EQ(r.size(), kRecordHeaderSize + 4 + kRecordTrailerSize);
  EXPECT_EQ(r[0], 'C');
  EXPECT_EQ(decode_u32(std::string_view(r).substr(1, 4)), 4U);
  EXPECT_EQ(decode_u32(std::string_view(r).substr(r.size() - 4)),
            record_crc(RecordType::commit, std::string_view(r).substr(5, 4)));
}

}  // namespace
}  // namespace postern::spool
