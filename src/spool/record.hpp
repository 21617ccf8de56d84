// The on-disk record format of spool segments. Every record carries its
// type and length and ends with a CRC-32 of type, length and payload, so a
// torn or damaged record is recognised instead of being half-read:
//
//   u8 type | u32 payload length (little-endian) | payload | u32 CRC-32
//
// A segment file is the 8-byte magic, then a log of records: batches of
// messages (an envelope record followed by its data record, per message,
// then a commit record that ends the batch and counts its messages), and
// between and after them the state and removal records appended as
// deliveries progress. A batch counts only once its commit record is there;
// the first record that does not check out ends the log.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "spool/spool.hpp"

namespace postern::spool {

inline constexpr std::string_view kSegmentMagic = "PSTRNSG1";
inline constexpr std::size_t kRecordHeaderSize = 5;
inline constexpr std::size_t kRecordTrailerSize = 4;
// A record larger than this is damage, not data (messages are far smaller
// than the limit the 32-bit length field allows).
inline constexpr std::uint64_t kMaxRecordPayload = 0xFFFFFFF0ULL;

enum class RecordType : std::uint8_t {
  envelope = 'E',  // queue id, arrival, size and the SMTP envelope
  data = 'D',      // the message bytes exactly as accepted
  commit = 'C',    // ends the batch; a segment without it was never acknowledged
  state = 'S',     // per-recipient results and owed bounces, next attempt, hold flag
  removed = 'R',   // the message left the queue
};

bool is_known_record_type(std::uint8_t type);

// The 5-byte header of a record whose payload is `length` bytes long.
std::string record_header(RecordType type, std::uint32_t length);
// CRC of a record: header then payload (the payload may be fed in pieces by
// continuing with crc32()).
std::uint32_t record_crc(RecordType type, std::string_view payload);
std::string encode_u32(std::uint32_t value);
std::uint32_t decode_u32(std::string_view four_bytes);
// A whole small record: header, payload, CRC.
std::string encode_record(RecordType type, std::string_view payload);

// Payload codecs. Decoders return false on malformed input.
std::string encode_envelope_payload(const QueuedMessage& message);
bool decode_envelope_payload(std::string_view payload, QueuedMessage& out);

// A state payload: queue id, next attempt, held, then per recipient its
// state byte, attempts and last reply, and its owed bounce (reply, where)
// when the state byte says one follows. Records written before owed bounces
// had their own field carry them as a "bounce pending: " prefix of the last
// reply; applying such a record converts it.
std::string encode_state_payload(const QueuedMessage& message);
// Applies a state record to `message` when it names that message and has the
// same number of recipients; returns false otherwise.
bool apply_state_payload(std::string_view payload, QueuedMessage& message);
// The queue id a state or removal record refers to, or empty when malformed.
std::string record_queue_id(std::string_view payload);

std::string encode_removed_payload(const std::string& id);
std::string encode_commit_payload(std::uint32_t messages);
bool decode_commit_payload(std::string_view payload, std::uint32_t& messages);

}  // namespace postern::spool
