#include "spool/queue_id.hpp"

#include <random>

namespace postern::spool {
namespace {

// Crockford's alphabet is in ASCII order, so string order equals numeric order.
constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::size_t kTimeChars = 11;  // 55 bits of microseconds: until the year 3111
constexpr std::size_t kTailChars = 5;   // 25 bits: 10 of counter, 15 of salt
constexpr std::uint32_t kCounterLimit = 1U << 10;

void append_base32(std::string& out, std::uint64_t value, std::size_t chars) {
  for (std::size_t i = chars; i-- > 0;) out += kAlphabet[(value >> (5 * i)) & 31U];
}

}  // namespace

QueueIdGenerator::QueueIdGenerator() {
  std::random_device rd;
  salt_ = rd() & ((1U << 15) - 1);
}

std::string QueueIdGenerator::next() {
  return next(std::chrono::system_clock::now());
}

std::string QueueIdGenerator::next(std::chrono::system_clock::time_point now) {
  const auto micros = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count());
  std::uint64_t t = 0;
  std::uint32_t c = 0;
  {
    // (time, counter) never repeats and never goes backwards, even when the
    // clock steps back or more than 1024 ids are made in one microsecond:
    // then the time part runs ahead of the clock for a moment.
    std::lock_guard lock(mutex_);
    if (micros > last_micros_) {
      last_micros_ = micros;
      counter_ = 0;
    } else if (++counter_ == kCounterLimit) {
      ++last_micros_;
      counter_ = 0;
    }
    t = last_micros_;
    c = counter_;
  }
  std::string id;
  id.reserve(kTimeChars + kTailChars);
  append_base32(id, t, kTimeChars);
  append_base32(id, (std::uint64_t{c} << 15) | salt_, kTailChars);
  return id;
}

bool is_queue_id(std::string_view id) {
  if (id.size() != kTimeChars + kTailChars) return false;
  for (char ch : id) {
    if (kAlphabet.find(ch) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace postern::spool
