#include "limits/sliding_window.hpp"

#include <algorithm>

namespace postern::limits {
namespace {

// Bucket `index` covers [index*width, (index+1)*width); its events count
// until (index+1)*width + window: as if they happened at the bucket's end.
std::int64_t bucket_expiry(std::int64_t index, std::int64_t width, const Rate& rate) {
  return (index + 1) * width + rate.window.count();
}

// floor(a / b) for b > 0, also for negative a.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

}  // namespace

std::int64_t bucket_ms(const Rate& rate) {
  return std::max<std::int64_t>(1, rate.window.count() / kBuckets);
}

SlidingWindow::View SlidingWindow::look(std::int64_t now_ms, const Rate& rate,
                                        std::uint64_t amount) {
  const std::int64_t width = bucket_ms(rate);
  std::erase_if(buckets_,
                [&](const auto& b) { return bucket_expiry(b.first, width, rate) <= now_ms; });
  View v;
  for (const auto& b : buckets_) v.count += b.second;
  if (v.count + amount <= rate.count) return v;
  if (amount > rate.count) {
    // Never fits; the best a caller can say is "a whole window".
    v.retry_after = rate.window;
    return v;
  }
  // The oldest buckets leave first: find the one whose leaving makes room.
  std::uint64_t left = v.count;
  for (const auto& b : buckets_) {
    left -= b.second;
    if (left + amount <= rate.count) {
      v.retry_after = std::chrono::milliseconds(bucket_expiry(b.first, width, rate) - now_ms);
      break;
    }
  }
  return v;
}

void SlidingWindow::add(std::int64_t now_ms, const Rate& rate, std::uint64_t amount) {
  if (amount == 0) return;
  const std::int64_t index = floor_div(now_ms, bucket_ms(rate));
  if (!buckets_.empty() && buckets_.back().first == index) {
    buckets_.back().second += amount;
    return;
  }
  // Time is fed by one clock and does not go back; a late caller's event
  // still lands in order, so the oldest-first walk in look() stays right.
  auto it = std::lower_bound(buckets_.begin(), buckets_.end(), index,
                             [](const auto& b, std::int64_t i) { return b.first < i; });
  if (it != buckets_.end() && it->first == index) {
    it->second += amount;
  } else {
    buckets_.insert(it, {index, amount});
  }
}

std::int64_t SlidingWindow::expires_at(const Rate& rate) const {
  if (buckets_.empty()) return 0;
  return bucket_expiry(buckets_.back().first, bucket_ms(rate), rate);
}

}  // namespace postern::limits
