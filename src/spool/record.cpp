#include "spool/record.hpp"

#include <chrono>
#include <optional>

#include "spool/crc32.hpp"

namespace postern::spool {
namespace {

using Clock = std::chrono::system_clock;

void put_u8(std::string& out, std::uint8_t v) {
  out += static_cast<char>(v);
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFFU);
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFFU);
}

void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out += s;
}

void put_time(std::string& out, Clock::time_point t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch());
  put_u64(out, static_cast<std::uint64_t>(us.count()));
}

// Bounds-checked reading of a payload; any overrun makes the record invalid.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}

  bool u8(std::uint8_t& v) {
    if (bytes_.size() - pos_ < 1) return false;
    v = static_cast<std::uint8_t>(bytes_[pos_++]);
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (bytes_.size() - pos_ < 4) return false;
    v = decode_u32(bytes_.substr(pos_, 4));
    pos_ += 4;
    return true;
  }
  bool u64(std::uint64_t& v) {
    if (bytes_.size() - pos_ < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) {
      v |= std::uint64_t{static_cast<unsigned char>(bytes_[pos_ + static_cast<std::size_t>(i)])}
           << (8 * i);
    }
    pos_ += 8;
    return true;
  }
  bool str(std::string& s) {
    std::uint32_t n = 0;
    if (!u32(n) || bytes_.size() - pos_ < n) return false;
    s.assign(bytes_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool time(Clock::time_point& t) {
    std::uint64_t raw = 0;
    if (!u64(raw)) return false;
    // A time the clock cannot hold (beyond about 292 years either side of
    // 1970 in nanoseconds) is damage, not a date: converting it would
    // overflow (found by fuzz_segment).
    const auto us = static_cast<std::int64_t>(raw);
    constexpr auto kMost = std::chrono::floor<std::chrono::microseconds>(Clock::duration::max());
    constexpr auto kLeast = std::chrono::ceil<std::chrono::microseconds>(Clock::duration::min());
    if (us > kMost.count() || us < kLeast.count()) return false;
    t = Clock::time_point(
        std::chrono::duration_cast<Clock::duration>(std::chrono::microseconds(us)));
    return true;
  }
  bool at_end() const { return pos_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

constexpr std::uint8_t kFlagSmtputf8 = 1;
constexpr std::uint8_t kFlagEightBit = 2;
// Added with the inbound checks; records written before never have it set,
// so they read back as before.
constexpr std::uint8_t kFlagJunk = 4;

// A recipient's state byte in a state record: the RecipientState in the low
// bits; this bit says an owed bounce (its reply and where) follows the
// recipient's last reply. Records written before it existed never set it.
constexpr std::uint8_t kStateBounceOwed = 0x80;

// Before the owed bounce had its own field it was written into last_reply
// as "bounce pending: (host[ip]:port) reply" (the parenthesis only for
// remote failures). A record of that kind is converted as it is read.
constexpr std::string_view kLegacyOwedMark = "bounce pending: ";

std::optional<OwedBounce> legacy_owed_bounce(std::string_view last_reply) {
  if (!last_reply.starts_with(kLegacyOwedMark)) return std::nullopt;
  last_reply.remove_prefix(kLegacyOwedMark.size());
  OwedBounce owed;
  if (last_reply.starts_with('(')) {
    const std::size_t close = last_reply.find(") ");
    if (close != std::string_view::npos) {
      owed.where = std::string(last_reply.substr(1, close - 1));
      last_reply.remove_prefix(close + 2);
    }
  }
  owed.reply = std::string(last_reply);
  return owed;
}

}  // namespace

bool is_known_record_type(std::uint8_t type) {
  switch (static_cast<RecordType>(type)) {
    case RecordType::envelope:
    case RecordType::data:
    case RecordType::commit:
    case RecordType::state:
    case RecordType::removed:
      return true;
  }
  return false;
}

std::string record_header(RecordType type, std::uint32_t length) {
  std::string out;
  out.reserve(kRecordHeaderSize);
  put_u8(out, static_cast<std::uint8_t>(type));
  put_u32(out, length);
  return out;
}

std::uint32_t record_crc(RecordType type, std::string_view payload) {
  const std::string header = record_header(type, static_cast<std::uint32_t>(payload.size()));
  return crc32(payload, crc32(header));
}

std::string encode_u32(std::uint32_t value) {
  std::string out;
  put_u32(out, value);
  return out;
}

std::uint32_t decode_u32(std::string_view b) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i)
    v |= std::uint32_t{static_cast<unsigned char>(b[i])} << (8 * i);
  return v;
}

std::string encode_record(RecordType type, std::string_view payload) {
  std::string out = record_header(type, static_cast<std::uint32_t>(payload.size()));
  out.reserve(kRecordHeaderSize + payload.size() + kRecordTrailerSize);
  out += payload;
  put_u32(out, record_crc(type, payload));
  return out;
}

std::string encode_envelope_payload(const QueuedMessage& m) {
  const Envelope& e = m.envelope;
  std::string out;
  out.reserve(128 + e.recipients.size() * 48);
  put_str(out, m.id);
  put_time(out, m.arrival);
  put_u64(out, m.size);
  put_str(out, e.mail_from);
  put_str(out, e.auth_user);
  put_str(out, e.client_ip);
  put_str(out, e.helo);
  put_u8(out,
         static_cast<std::uint8_t>((e.smtputf8 ? kFlagSmtputf8 : 0) |
                                   (e.eight_bit ? kFlagEightBit : 0) | (e.junk ? kFlagJunk : 0)));
  put_str(out, e.dsn_ret);
  put_str(out, e.dsn_envid);
  put_u32(out, static_cast<std::uint32_t>(e.recipients.size()));
  for (const Recipient& r : e.recipients) {
    put_str(out, r.address);
    put_str(out, r.notify);
    put_str(out, r.orcpt);
  }
  return out;
}

bool decode_envelope_payload(std::string_view payload, QueuedMessage& m) {
  Cursor c(payload);
  Envelope& e = m.envelope;
  std::uint64_t size = 0;
  std::uint8_t flags = 0;
  std::uint32_t n = 0;
  if (!c.str(m.id) || !c.time(m.arrival) || !c.u64(size) || !c.str(e.mail_from) ||
      !c.str(e.auth_user) || !c.str(e.client_ip) || !c.str(e.helo) || !c.u8(flags) ||
      !c.str(e.dsn_ret) || !c.str(e.dsn_envid) || !c.u32(n)) {
    return false;
  }
  // Each recipient takes at least 12 bytes; a larger count is damage.
  if (n > payload.size() / 12) return false;
  e.smtputf8 = (flags & kFlagSmtputf8) != 0;
  e.eight_bit = (flags & kFlagEightBit) != 0;
  e.junk = (flags & kFlagJunk) != 0;
  e.recipients.resize(n);
  m.recipients.clear();
  m.recipients.reserve(n);
  for (Recipient& r : e.recipients) {
    if (!c.str(r.address) || !c.str(r.notify) || !c.str(r.orcpt)) return false;
    m.recipients.push_back(RecipientStatus{r, RecipientState::pending, 0, {}, {}});
  }
  m.size = static_cast<std::size_t>(size);
  m.next_attempt = m.arrival;
  m.held = false;
  return c.at_end();
}

std::string encode_state_payload(const QueuedMessage& m) {
  std::string out;
  put_str(out, m.id);
  put_time(out, m.next_attempt);
  put_u8(out, m.held ? 1 : 0);
  put_u32(out, static_cast<std::uint32_t>(m.recipients.size()));
  for (const RecipientStatus& r : m.recipients) {
    put_u8(out, static_cast<std::uint8_t>(static_cast<std::uint8_t>(r.state) |
                                          (r.bounce_owed ? kStateBounceOwed : 0)));
    put_u32(out, static_cast<std::uint32_t>(r.attempts < 0 ? 0 : r.attempts));
    put_str(out, r.last_reply);
    if (r.bounce_owed) {
      put_str(out, r.bounce_owed->reply);
      put_str(out, r.bounce_owed->where);
    }
  }
  return out;
}

bool apply_state_payload(std::string_view payload, QueuedMessage& m) {
  Cursor c(payload);
  std::string id;
  Clock::time_point next{};
  std::uint8_t held = 0;
  std::uint32_t n = 0;
  if (!c.str(id) || id != m.id || !c.time(next) || !c.u8(held) || !c.u32(n) ||
      n != m.recipients.size()) {
    return false;
  }
  std::vector<RecipientStatus> updated = m.recipients;
  for (RecipientStatus& r : updated) {
    std::uint8_t byte = 0;
    std::uint32_t attempts = 0;
    if (!c.u8(byte) || !c.u32(attempts) || !c.str(r.last_reply)) return false;
    const std::uint8_t state = byte & static_cast<std::uint8_t>(~kStateBounceOwed);
    if (state > static_cast<std::uint8_t>(RecipientState::failed)) return false;
    r.state = static_cast<RecipientState>(state);
    r.attempts = static_cast<int>(attempts);
    r.bounce_owed.reset();
    if ((byte & kStateBounceOwed) != 0) {
      OwedBounce owed;
      if (!c.str(owed.reply) || !c.str(owed.where)) return false;
      r.bounce_owed = std::move(owed);
    } else if (r.state == RecipientState::pending) {
      r.bounce_owed = legacy_owed_bounce(r.last_reply);
      if (r.bounce_owed) r.last_reply = r.bounce_owed->reply;
    }
  }
  if (!c.at_end()) return false;
  m.recipients = std::move(updated);
  m.next_attempt = next;
  m.held = held != 0;
  return true;
}

std::string record_queue_id(std::string_view payload) {
  Cursor c(payload);
  std::string id;
  if (!c.str(id)) return {};
  return id;
}

std::string encode_removed_payload(const std::string& id) {
  std::string out;
  put_str(out, id);
  return out;
}

std::string encode_commit_payload(std::uint32_t messages) {
  std::string out;
  put_u32(out, messages);
  return out;
}

bool decode_commit_payload(std::string_view payload, std::uint32_t& messages) {
  Cursor c(payload);
  return c.u32(messages) && c.at_end();
}

}  // namespace postern::spool
