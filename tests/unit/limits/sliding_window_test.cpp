// The counting behind every limit, fed time in milliseconds.
#include "limits/sliding_window.hpp"

#include <gtest/gtest.h>

namespace postern::limits {
namespace {

using namespace std::chrono_literals;

const Rate kFivePerMinute{5, 60s};  // buckets of 1 s

// One row: at time `at` (ms), take `amount` if it fits; expect the outcome.
struct Row {
  std::int64_t at;
  bool fits;
  std::uint64_t count_before;
  std::int64_t retry_ms;  // when it does not fit
};

void run(const Rate& rate, const std::vector<Row>& rows) {
  SlidingWindow w;
  for (const auto& r : rows) {
    const auto v = w.look(r.at, rate, 1);
    EXPECT_EQ(v.count, r.count_before) << "at " << r.at;
    EXPECT_EQ(v.retry_after.count() == 0, r.fits) << "at " << r.at;
    if (!r.fits) {
      EXPECT_EQ(v.retry_after.count(), r.retry_ms) << "at " << r.at;
    }
    if (v.retry_after.count() == 0) w.add(r.at, rate, 1);
  }
}

TEST(SlidingWindow, FiveThenRefusedUntilTheFirstLeaves) {
  // Events at 0.5 s .. 4.5 s count as if at the end of their 1 s buckets,
  // so the first leaves at 1 s + 60 s.
  run(kFivePerMinute, {
                          {500, true, 0, 0},
                          {1500, true, 1, 0},
                          {2500, true, 2, 0},
                          {3500, true, 3, 0},
                          {4500, true, 4, 0},
                          {5000, false, 5, 56000},  // 61,000 - 5,000
                          {60999, false, 5, 1},
                          {61000, true, 4, 0},     // the first left
                          {61001, false, 5, 999},  // the second leaves at 62,000
                      });
}

TEST(SlidingWindow, NeverMoreThanTheLimitInAnyWindow) {
  // Take greedily every 100 ms for 5 minutes: no window of 60 s holds more
  // than 5 admitted events.
  SlidingWindow w;
  std::vector<std::int64_t> admitted;
  for (std::int64_t t = 0; t < 300000; t += 100) {
    if (w.look(t, kFivePerMinute, 1).retry_after.count() == 0) {
      w.add(t, kFivePerMinute, 1);
      admitted.push_back(t);
    }
  }
  for (std::size_t i = 0; i < admitted.size(); ++i) {
    std::size_t in_window = 0;
    for (std::size_t j = i; j < admitted.size() && admitted[j] < admitted[i] + 60000; ++j) {
      ++in_window;
    }
    EXPECT_LE(in_window, 5u) << "window starting at " << admitted[i];
  }
  // And it is not much stricter: about 5 per 61 s.
  EXPECT_GE(admitted.size(), 20u);
}

TEST(SlidingWindow, AmountsAndImpossibleAmounts) {
  SlidingWindow w;
  const Rate r{10, 60s};
  w.add(0, r, 7);
  EXPECT_EQ(w.look(10, r, 3).retry_after, 0ms);
  EXPECT_EQ(w.look(10, r, 4).retry_after, 60990ms);  // bucket [0,1000) leaves at 61,000
  EXPECT_EQ(w.look(10, r, 11).retry_after, 60s);     // never fits: a whole window
}

TEST(SlidingWindow, ForgetsAndExpires) {
  SlidingWindow w;
  w.add(0, kFivePerMinute, 2);
  EXPECT_EQ(w.expires_at(kFivePerMinute), 61000);
  EXPECT_EQ(w.look(61000, kFivePerMinute, 1).count, 0u);
  EXPECT_TRUE(w.empty());
}

TEST(SlidingWindow, BucketWidthIsASixtiethOfTheWindow) {
  EXPECT_EQ(bucket_ms(Rate{1, 60s}), 1000);
  EXPECT_EQ(bucket_ms(Rate{1, 24h}), 1440000);
  EXPECT_EQ(bucket_ms(Rate{1, 1s}), 16);
}

}  // namespace
}  // namespace postern::limits
