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

// A stored time the clock cannot hold is damage: the record is refused, and
// converting it never overflows (fuzz_segment found 4.6e17 us, corpus entry
// segment/arrival_time_beyond_the_clock).
TEST(Record, ArrivalBeyondTheClockIsRefused) {
  const std::string good = encode_envelope_payload(sample());
  // The arrival time follows the id: a 4-byte length, 16 bytes, then 8 bytes.
  constexpr std::size_t kAt = 4 + 16;
  auto with_time = [&](std::uint64_t us) {
    std::string p = good;
    for (std::size_t i = 0; i < 8; ++i) p[kAt + i] = static_cast<char>((us >> (8 * i)) & 0xFF);
    return p;
  };
  QueuedMessage back;
  ASSERT_TRUE(decode_envelope_payload(with_time(1700000000123456ULL), back));
  EXPECT_EQ(back.arrival, sample().arrival);
  for (const std::uint64_t bad : {459930170633530001ULL, 0x7FFFFFFFFFFFFFFFULL,
                                  0x8000000000000000ULL, 0xFF00000000000000ULL}) {
    EXPECT_FALSE(decode_envelope_payload(with_time(bad), back)) << bad;
  }
  // The last microsecond the clock holds is still a date.
  constexpr auto kMost =
      std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::duration::max());
  EXPECT_TRUE(decode_envelope_payload(with_time(static_cast<std::uint64_t>(kMost.count())), back));
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

// A state payload exactly as spools written before the owed bounce had its
// own field (through ae9994b): per recipient a plain state byte, attempts and
// last reply, the owed bounce written into the reply as a text prefix.
struct LegacyRecipient {
  RecipientState state;
  std::uint32_t attempts;
  std::string last_reply;
};
std::string legacy_state_payload(const QueuedMessage& m, const std::vector<LegacyRecipient>& rs) {
  auto str = [](std::string_view s) {
    return encode_u32(static_cast<std::uint32_t>(s.size())) + std::string(s);
  };
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(m.next_attempt.time_since_epoch())
          .count();
  std::string out = str(m.id);
  out += encode_u32(static_cast<std::uint32_t>(us & 0xFFFFFFFF));
  out += encode_u32(static_cast<std::uint32_t>(static_cast<std::uint64_t>(us) >> 32));
  out += static_cast<char>(m.held ? 1 : 0);
  out += encode_u32(static_cast<std::uint32_t>(rs.size()));
  for (const auto& r : rs) {
    out += static_cast<char>(r.state);
    out += encode_u32(r.attempts);
    out += str(r.last_reply);
  }
  return out;
}

TEST(Record, OwedBounceRoundTripsWithItsReplyAndWhere) {
  QueuedMessage m;
  ASSERT_TRUE(decode_envelope_payload(encode_envelope_payload(sample()), m));
  QueuedMessage changed = m;
  changed.recipients[0].attempts = 2;
  changed.recipients[0].last_reply = "550 5.1.1 no such user";
  changed.recipients[0].bounce_owed =
      OwedBounce{"550 5.1.1 no such user", "mx.example.com[192.0.2.7]:25"};
  changed.recipients[1].last_reply = "5.2.2 mailbox full";
  changed.recipients[1].bounce_owed = OwedBounce{"5.2.2 mailbox full", ""};  // a local failure
  const std::string payload = encode_state_payload(changed);
  ASSERT_TRUE(apply_state_payload(payload, m));
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(m.recipients[i].state, RecipientState::pending);
    EXPECT_EQ(m.recipients[i].last_reply, changed.recipients[i].last_reply);
    EXPECT_EQ(m.recipients[i].bounce_owed, changed.recipients[i].bounce_owed);
  }
  EXPECT_EQ(last_reply_text(m.recipients[0]),
            "bounce pending: (mx.example.com[192.0.2.7]:25) 550 5.1.1 no such user");
  EXPECT_EQ(last_reply_text(m.recipients[1]), "bounce pending: 5.2.2 mailbox full");

  // A later record without the owed bounce (the recipient was recorded as
  // failed once the bounce was queued) clears it.
  changed.recipients[0].state = RecipientState::failed;
  changed.recipients[0].bounce_owed.reset();
  ASSERT_TRUE(apply_state_payload(encode_state_payload(changed), m));
  EXPECT_EQ(m.recipients[0].state, RecipientState::failed);
  EXPECT_FALSE(m.recipients[0].bounce_owed);
  EXPECT_EQ(last_reply_text(m.recipients[0]), "550 5.1.1 no such user");
  EXPECT_TRUE(m.recipients[1].bounce_owed);
}

TEST(Record, TruncatedStateWithAnOwedBounceIsRejectedAtEveryLength) {
  QueuedMessage m;
  ASSERT_TRUE(decode_envelope_payload(encode_envelope_payload(sample()), m));
  QueuedMessage changed = m;
  changed.recipients[1].bounce_owed = OwedBounce{"550 no", "mx[192.0.2.7]:25"};
  const std::string payload = encode_state_payload(changed);
  for (std::size_t n = 0; n < payload.size(); ++n) {
    QueuedMessage back = m;
    EXPECT_FALSE(apply_state_payload(std::string_view(payload).substr(0, n), back)) << n;
    EXPECT_FALSE(back.recipients[1].bounce_owed) << n;  // a rejected record changes nothing
  }
}

TEST(Record, LegacyStateRecordIsStillReadAndItsOwedMarkConverted) {
  QueuedMessage m;
  ASSERT_TRUE(decode_envelope_payload(encode_envelope_payload(sample()), m));
  m.next_attempt = m.arrival + std::chrono::minutes(5);
  const std::string payload = legacy_state_payload(
      m, {{RecipientState::pending, 1,
           "bounce pending: (mx.example.com[192.0.2.7]:25) 550 5.1.1 no such user"},
          {RecipientState::pending, 3, "bounce pending: 4.4.7 message expired in the queue"}});
  QueuedMessage back = m;
  back.next_attempt = {};
  ASSERT_TRUE(apply_state_payload(payload, back));
  EXPECT_EQ(back.next_attempt, m.next_attempt);
  EXPECT_EQ(back.recipients[0].attempts, 1);
  EXPECT_EQ(back.recipients[0].last_reply, "550 5.1.1 no such user");
  ASSERT_TRUE(back.recipients[0].bounce_owed);
  EXPECT_EQ(back.recipients[0].bounce_owed->reply, "550 5.1.1 no such user");
  EXPECT_EQ(back.recipients[0].bounce_owed->where, "mx.example.com[192.0.2.7]:25");
  ASSERT_TRUE(back.recipients[1].bounce_owed);
  EXPECT_EQ(back.recipients[1].bounce_owed->reply, "4.4.7 message expired in the queue");
  EXPECT_EQ(back.recipients[1].bounce_owed->where, "");
  // Written again, it takes the new form and reads back the same.
  QueuedMessage again = m;
  ASSERT_TRUE(apply_state_payload(encode_state_payload(back), again));
  EXPECT_EQ(again.recipients[0].bounce_owed, back.recipients[0].bounce_owed);
  EXPECT_EQ(again.recipients[0].last_reply, back.recipients[0].last_reply);
}

TEST(Record, LegacyStateRecordWithoutAMarkStaysAsItWas) {
  QueuedMessage m;
  ASSERT_TRUE(decode_envelope_payload(encode_envelope_payload(sample()), m));
  // A plain deferral, and a recipient already failed whose reply merely
  // reads like the mark: neither owes a bounce.
  const std::string payload =
      legacy_state_payload(m, {{RecipientState::pending, 2, "451 4.7.1 greylisted"},
                               {RecipientState::failed, 1, "bounce pending: 550 gone"}});
  ASSERT_TRUE(apply_state_payload(payload, m));
  EXPECT_EQ(m.recipients[0].last_reply, "451 4.7.1 greylisted");
  EXPECT_FALSE(m.recipients[0].bounce_owed);
  EXPECT_EQ(m.recipients[1].state, RecipientState::failed);
  EXPECT_EQ(m.recipients[1].last_reply, "bounce pending: 550 gone");
  EXPECT_FALSE(m.recipients[1].bounce_owed);
}

TEST(Record, StateByteWithAnUnknownStateIsRejected) {
  QueuedMessage m;
  ASSERT_TRUE(decode_envelope_payload(encode_envelope_payload(sample()), m));
  std::string payload =
      legacy_state_payload(m, {{RecipientState::pending, 0, ""}, {RecipientState::pending, 0, ""}});
  const std::size_t first_state = 4 + m.id.size() + 8 + 1 + 4;
  payload[first_state] = 3;  // past RecipientState::failed
  EXPECT_FALSE(apply_state_payload(payload, m));
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
