// ProgressDeadlines (docs/limits.md, "Slow clients"): with T = idle_timeout,
// a command line within min(T, 30s), 2T between messages outside content,
// and content at 1 KiB/s or better after a grace of T.
#include "net/progress_deadlines.hpp"

#include <gtest/gtest.h>

namespace postern::net {
namespace {

using Clock = ProgressDeadlines::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Feeds `bytes` one at a time, `gap` apart, as a client that trickles;
// returns when the deadline passed (or after `limit`).
struct Trickle {
  ProgressDeadlines& p;
  Clock::time_point now;
  Clock::time_point cut_at(milliseconds gap, bool in_message, int line_len, seconds limit) {
    const auto end = now + limit;
    int in_line = 0;
    while (now < end) {
      now += gap;
      if (now >= p.deadline()) return p.deadline();
      ++in_line;
      const bool partial = !in_message && in_line < line_len;
      if (!partial) in_line = 0;
      p.bytes(now, 1, in_message, partial);
    }
    return Clock::time_point::max();
  }
};

TEST(ProgressDeadlines, IdleAloneIsT) {
  ProgressDeadlines p(seconds(300));
  const auto t0 = Clock::now();
  p.start(t0);
  EXPECT_EQ(p.deadline(), t0 + seconds(300));
  EXPECT_EQ(p.rule(), "idle");
  p.bytes(t0 + seconds(100), 6, false, false);  // "NOOP\r\n"
  EXPECT_EQ(p.deadline(), t0 + seconds(400));
}

TEST(ProgressDeadlines, OneByteEveryFiveSecondsNeverCompletesALine) {
  ProgressDeadlines p(seconds(300));
  const auto t0 = Clock::now();
  p.start(t0);
  Trickle t{p, t0};
  // "MAIL FROM:<someone@example.com>\r\n": 33 bytes, 165 s at this pace.
  const auto cut = t.cut_at(milliseconds(5000), false, 33, seconds(3600));
  EXPECT_EQ(p.rule(), "command_line");
  EXPECT_LE(cut - t0, seconds(5 + 30));
}

TEST(ProgressDeadlines, NoopsJustInsideEveryDeadlineEndAfterTwoT) {
  ProgressDeadlines p(seconds(300));
  const auto t0 = Clock::now();
  p.start(t0);
  auto now = t0;
  // A whole "NOOP\r\n" every 290 s: each one on time, no message ever.
  while (now < t0 + seconds(3600) && now + seconds(290) < p.deadline()) {
    now += seconds(290);
    p.bytes(now, 6, false, false);
  }
  EXPECT_EQ(p.rule(), "between_messages");
  EXPECT_EQ(p.deadline(), t0 + seconds(600));
  // A queued message starts the allowance again.
  p.message_queued(t0 + seconds(590));
  EXPECT_EQ(p.deadline(), std::min(t0 + seconds(1190), now + seconds(300)));
}

TEST(ProgressDeadlines, ContentBelowTheMinimumRateIsCutAfterGrace) {
  ProgressDeadlines p(seconds(300));
  const auto t0 = Clock::now();
  p.start(t0);
  p.bytes(t0, 6, true, false);  // "DATA\r\n": content from here
  // 1 KiB every 299 s: each chunk resets the idle clock, but 3.4 bytes/s
  // is far below 1 KiB/s.
  auto now = t0;
  while (now < t0 + seconds(7200) && now + seconds(299) < p.deadline()) {
    now += seconds(299);
    p.bytes(now, 1024, true, false);
  }
  EXPECT_EQ(p.rule(), "data_rate");
  EXPECT_LT(p.deadline() - t0, seconds(310));
}

TEST(ProgressDeadlines, ContentAtAGoodRateMayTakeLongerThanTwoT) {
  ProgressDeadlines p(seconds(300));
  const auto t0 = Clock::now();
  p.start(t0);
  for (int i = 1; i <= 5; ++i) p.bytes(t0 + seconds(100 * i - 1), 30, false, false);  // commands
  p.bytes(t0 + seconds(500), 6, true, false);  // "DATA\r\n", then content
  // 35 MB at 4 KiB/s: about 2.4 hours, never cut.
  auto now = t0 + seconds(500);
  for (std::size_t sent = 0; sent < 35u * 1000 * 1000; sent += 4096) {
    now += seconds(1);
    ASSERT_LT(now, p.deadline()) << sent;
    p.bytes(now, 4096, true, false);
  }
  // Content ends: the between-messages clock resumes where it paused
  // (100 s were left), then a queued message restarts it.
  p.bytes(now, 5, false, false);
  EXPECT_EQ(p.deadline(), now + seconds(100));
  p.message_queued(now);
  EXPECT_EQ(p.deadline(), now + seconds(300));
}

TEST(ProgressDeadlines, ShortIdleScalesTheCommandLineToo) {
  ProgressDeadlines p(seconds(4));
  EXPECT_EQ(p.command_line_limit(), seconds(4));
  EXPECT_EQ(p.between_messages_limit(), seconds(8));
  ProgressDeadlines q(seconds(300));
  EXPECT_EQ(q.command_line_limit(), seconds(30));
}

}  // namespace
}  // namespace postern::net
