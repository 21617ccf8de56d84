// The delivery scheduler's pure core with a fake clock: bounds overall and
// per destination, the local lane, round robin between destinations, dead
// destinations (fewer slots, backoff, one event), and operator changes.
#include "delivery/scheduler.hpp"

#include <gtest/gtest.h>

#include <map>

namespace postern::delivery {
namespace {

using std::chrono::seconds;
using Time = Scheduler::Time;

const Time t0 = Time{} + std::chrono::hours(24 * 365 * 50);

SchedulerLimits limits(std::size_t total, std::size_t per, std::size_t local = 2) {
  SchedulerLimits l;
  l.max_connections = total;
  l.max_per_destination = per;
  l.local_concurrency = local;
  l.dead_backoff_initial = seconds(60);
  l.dead_backoff_max = seconds(300);
  return l;
}

// Everything next() hands out at `now`, until it says no.
std::vector<Job> drain(Scheduler& s, Time now) {
  std::vector<Job> out;
  while (auto j = s.next(now)) out.push_back(*j);
  return out;
}

std::map<std::string, int> per_destination(const std::vector<Job>& jobs) {
  std::map<std::string, int> n;
  for (const auto& j : jobs) ++n[j.destination];
  return n;
}

TEST(Scheduler, NothingStartsBeforeItIsDue) {
  Scheduler s(limits(10, 4));
  s.add({"m1", "a.example"}, t0 + seconds(30));
  EXPECT_FALSE(s.next(t0));
  EXPECT_EQ(s.wake_time(t0), t0 + seconds(30));
  EXPECT_EQ(s.next(t0 + seconds(30)), (Job{"m1", "a.example"}));
  EXPECT_EQ(s.wake_time(t0 + seconds(30)), Time::max());
}

TEST(Scheduler, EarlierAddWinsAndAMessageIsQueuedOncePerDestination) {
  Scheduler s(limits(10, 4));
  s.add({"m1", "a.example"}, t0 + seconds(60));
  s.add({"m1", "a.example"}, t0 + seconds(10));
  s.add({"m1", "a.example"}, t0 + seconds(90));
  EXPECT_EQ(s.queued(), 1u);
  EXPECT_EQ(s.wake_time(t0), t0 + seconds(10));
  EXPECT_EQ(drain(s, t0 + seconds(10)).size(), 1u);
}

TEST(Scheduler, PerDestinationBoundLeavesRoomForOthers) {
  Scheduler s(limits(10, 3));
  for (int i = 0; i < 20; ++i) s.add({"slow" + std::to_string(i), "tarpit.example"}, t0);
  for (int i = 0; i < 5; ++i) s.add({"fast" + std::to_string(i), "good.example"}, t0);
  const auto started = per_destination(drain(s, t0));
  EXPECT_EQ(started.at("tarpit.example"), 3);
  EXPECT_EQ(started.at("good.example"), 3);
  EXPECT_EQ(s.in_flight(), 6u);
}

TEST(Scheduler, GlobalBoundHoldsAcrossDestinations) {
  Scheduler s(limits(5, 4));
  for (int d = 0; d < 4; ++d) {
    for (int i = 0; i < 4; ++i)
      s.add({"m" + std::to_string(d * 10 + i), "d" + std::to_string(d)}, t0);
  }
  const auto jobs = drain(s, t0);
  EXPECT_EQ(jobs.size(), 5u);
  // Round robin: the five slots are spread, not all given to d0.
  EXPECT_LE(per_destination(jobs).at("d0"), 2);
  // A finished job frees one slot.
  s.finished(jobs[0], Verdict::answered, "", t0);
  EXPECT_EQ(drain(s, t0).size(), 1u);
}

TEST(Scheduler, LocalLaneIsSeparateFromRemote) {
  Scheduler s(limits(2, 2, 3));
  for (int i = 0; i < 10; ++i) s.add({"r" + std::to_string(i), "tarpit.example"}, t0);
  for (int i = 0; i < 10; ++i) s.add({"l" + std::to_string(i), kLocalDestination}, t0);
  const auto started = per_destination(drain(s, t0));
  EXPECT_EQ(started.at("tarpit.example"), 2);   // every remote slot is stuck...
  EXPECT_EQ(started.at(kLocalDestination), 3);  // ...and local still goes
}

TEST(Scheduler, UnreachableDestinationGetsOneSlotABackoffAndOneEvent) {
  Scheduler s(limits(10, 3));
  for (int i = 0; i < 10; ++i) s.add({"m" + std::to_string(i), "dead.example"}, t0);
  s.add({"x", "alive.example"}, t0);
  auto jobs = drain(s, t0);
  ASSERT_EQ(jobs.size(), 4u);

  // The three in flight fail one after another: one "down" event.
  std::vector<DestinationEvent> events;
  for (const auto& j : jobs) {
    if (j.destination != "dead.example") continue;
    for (auto& e :
         s.finished(j, Verdict::unreachable, "4.4.1 connect timed out", t0 + seconds(5))) {
      events.push_back(e);
    }
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, DestinationEvent::Kind::down);
  EXPECT_EQ(events[0].destination, "dead.example");
  EXPECT_EQ(events[0].retry_at, t0 + seconds(65));

  // Nothing to it during the backoff; other destinations are unaffected.
  s.add({"y", "alive.example"}, t0 + seconds(6));
  EXPECT_EQ(drain(s, t0 + seconds(6)), (std::vector<Job>{{"y", "alive.example"}}));
  EXPECT_EQ(s.wake_time(t0 + seconds(6)), t0 + seconds(65));
  const auto st = s.status(t0 + seconds(6));
  const auto dead = std::find_if(st.begin(), st.end(),
                                 [](const auto& d) { return d.destination == "dead.example"; });
  ASSERT_NE(dead, st.end());
  EXPECT_TRUE(dead->dead);
  EXPECT_EQ(dead->queued, 7u);
  EXPECT_EQ(dead->limit, 1u);
  EXPECT_EQ(dead->reason, "4.4.1 connect timed out");

  // After the backoff one probe at a time; a failed probe doubles it.
  auto probe = drain(s, t0 + seconds(65));
  ASSERT_EQ(probe.size(), 1u);
  events = s.finished(probe[0], Verdict::unreachable, "4.4.1 still nothing", t0 + seconds(70));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, DestinationEvent::Kind::still_down);
  EXPECT_EQ(events[0].retry_at, t0 + seconds(190));
  EXPECT_TRUE(drain(s, t0 + seconds(189)).empty());

  // It answers again: "up", and the slots come back one per success.
  probe = drain(s, t0 + seconds(190));
  ASSERT_EQ(probe.size(), 1u);
  events = s.finished(probe[0], Verdict::answered, "", t0 + seconds(191));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, DestinationEvent::Kind::up);
  EXPECT_EQ(drain(s, t0 + seconds(191)).size(), 2u);
}

TEST(Scheduler, BackoffIsCapped) {
  Scheduler s(limits(10, 3));
  Time now = t0;
  Time retry = t0;
  for (int round = 0; round < 8; ++round) {
    s.add({"m" + std::to_string(round), "dead.example"}, now);
    auto jobs = drain(s, now);
    ASSERT_EQ(jobs.size(), 1u) << round;
    const auto events = s.finished(jobs[0], Verdict::unreachable, "timeout", now);
    ASSERT_EQ(events.size(), 1u);
    retry = events[0].retry_at;
    EXPECT_LE(retry - now, seconds(300));
    now = retry;
  }
  EXPECT_EQ(retry - (retry - seconds(300)), seconds(300));
}

TEST(Scheduler, InterruptedSaysNothingAboutTheDestination) {
  Scheduler s(limits(10, 2));
  s.add({"m1", "a.example"}, t0);
  const auto j = s.next(t0);
  ASSERT_TRUE(j);
  EXPECT_TRUE(s.finished(*j, Verdict::interrupted, "stopping", t0).empty());
  s.add({"m2", "a.example"}, t0);
  s.add({"m3", "a.example"}, t0);
  EXPECT_EQ(drain(s, t0).size(), 2u);
}

TEST(Scheduler, AMessageAddedWhileInFlightIsQueuedAgainAfterwards) {
  Scheduler s(limits(10, 2));
  s.add({"m1", "a.example"}, t0);
  const auto j = s.next(t0);
  ASSERT_TRUE(j);
  s.add({"m1", "a.example"}, t0);  // e.g. `postern queue flush` meanwhile
  EXPECT_FALSE(s.next(t0));        // never twice at once
  s.finished(*j, Verdict::answered, "", t0);
  EXPECT_EQ(s.next(t0), (Job{"m1", "a.example"}));
}

TEST(Scheduler, OneMessageToSeveralDestinationsRunsInParallel) {
  Scheduler s(limits(10, 2));
  s.add({"m1", "a.example"}, t0);
  s.add({"m1", "b.example"}, t0);
  s.add({"m1", kLocalDestination}, t0);
  EXPECT_EQ(drain(s, t0).size(), 3u);
  EXPECT_TRUE(s.busy("m1"));
}

TEST(Scheduler, OperatorRemovalTakesQueuedJobsAndReportsBusy) {
  Scheduler s(limits(10, 1));
  s.add({"m1", "a.example"}, t0);
  s.add({"m2", "a.example"}, t0 + seconds(5));
  s.add({"m2", "b.example"}, t0 + seconds(7));
  const auto running = s.next(t0);
  ASSERT_TRUE(running);
  EXPECT_TRUE(s.busy("m1"));
  EXPECT_FALSE(s.busy("m2"));
  auto removed = s.remove_message("m2");
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(s.queued(), 0u);
  EXPECT_EQ(s.wake_time(t0), Time::max());
  for (const auto& [job, due] : removed) s.add(job, due);  // a failed change puts them back
  EXPECT_EQ(s.queued(), 2u);
  s.finished(*running, Verdict::answered, "", t0);
  EXPECT_FALSE(s.busy("m1"));
}

// A long random run against the bounds: never more in flight than
// allowed, every job eventually runs exactly once per add.
TEST(Scheduler, BoundsHoldUnderARandomWorkload) {
  Scheduler s(limits(7, 3, 2));
  std::uint32_t seed = 12345;
  auto rnd = [&seed](std::uint32_t n) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) % n;
  };
  std::vector<Job> running;
  std::map<std::string, int> added;
  std::map<std::string, int> ran;
  Time now = t0;
  for (int step = 0; step < 5000; ++step) {
    now += seconds(1);
    if (rnd(3) == 0) {
      const std::string id = "m" + std::to_string(step);
      const std::string dest = rnd(4) == 0 ? kLocalDestination : "d" + std::to_string(rnd(5));
      s.add({id, dest}, now + seconds(rnd(10)));
      ++added[id + "/" + dest];
    }
    while (auto j = s.next(now)) {
      running.push_back(*j);
      ++ran[j->message_id + "/" + j->destination];
    }
    std::map<std::string, std::size_t> per;
    std::size_t remote = 0;
    std::size_t local = 0;
    for (const auto& j : running) {
      ++per[j.destination];
      ++(j.destination == kLocalDestination ? local : remote);
    }
    ASSERT_LE(remote, 7u);
    ASSERT_LE(local, 2u);
    for (const auto& [d, n] : per) ASSERT_LE(n, d == kLocalDestination ? 2u : 3u) << d;
    if (!running.empty() && rnd(2) == 0) {
      const std::size_t k = rnd(static_cast<std::uint32_t>(running.size()));
      s.finished(running[k], rnd(5) == 0 ? Verdict::unreachable : Verdict::answered, "x", now);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
  // Let everything finish and run what is left.
  for (int i = 0; i < 100000 && (s.queued() > 0 || !running.empty()); ++i) {
    now += seconds(30);
    for (const auto& j : running) s.finished(j, Verdict::answered, "", now);
    running.clear();
    while (auto j = s.next(now)) {
      running.push_back(*j);
      ++ran[j->message_id + "/" + j->destination];
    }
  }
  EXPECT_EQ(ran, added);
}

}  // namespace
}  // namespace postern::delivery
