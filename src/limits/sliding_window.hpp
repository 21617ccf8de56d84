// Counting for rate limits: a sliding window kept in buckets.
//
// Why a sliding window, not a token bucket (GCRA): "500/1h" is read by an
// operator as "never more than 500 in an hour", and a sliding window gives
// exactly that. A token bucket of the same numbers lets a full burst through
// and then refills, so it admits up to 2x500-1 in some hour; the operator's
// list of limits ("30/1m", "500/1h") already says how bursty a user may
// be. The window is kept in kBuckets buckets of window/kBuckets each, so a
// counter costs at most kBuckets+1 small entries whatever its count (a log
// of every event would hold 2,000 timestamps for "2000/1d"), and one event
// is held as if it happened at the end of its bucket: the limit is never
// exceeded in any window, and an event counts at most one bucket
// (1/60 of the window) longer than exactly.
//
// The same arithmetic runs in Redis as a Lua script (state/redis_script),
// so a shared counter behaves as an in-process one. Time is fed in
// milliseconds since any fixed epoch.
#pragma once

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include "limits/rate.hpp"

namespace postern::limits {

inline constexpr std::int64_t kBuckets = 60;

// Width of one bucket of `rate`'s window, in milliseconds (at least 1).
std::int64_t bucket_ms(const Rate& rate);

class SlidingWindow {
 public:
  struct View {
    std::uint64_t count = 0;                   // events that count now
    std::chrono::milliseconds retry_after{0};  // until `amount` more fit; 0: they fit now
  };
  // Forgets buckets that no longer count at `now_ms`, then says how many
  // events count and how long until `amount` more would fit under `rate`.
  View look(std::int64_t now_ms, const Rate& rate, std::uint64_t amount);
  void add(std::int64_t now_ms, const Rate& rate, std::uint64_t amount);
  void clear() { buckets_.clear(); }
  bool empty() const { return buckets_.empty(); }
  // The time from which nothing in it counts any more.
  std::int64_t expires_at(const Rate& rate) const;

 private:
  std::vector<std::pair<std::int64_t, std::uint64_t>> buckets_;  // (index, events), ascending
};

}  // namespace postern::limits
