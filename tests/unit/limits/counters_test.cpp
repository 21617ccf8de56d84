// CounterTable: the in-process answer to a Request, all counters as one step.
#include "limits/counters.hpp"

#include <gtest/gtest.h>

#include "limits/user_limits.hpp"

namespace postern::limits {
namespace {

using namespace std::chrono_literals;

Request take(std::vector<Counter> c) {
  return Request{Op::take, std::move(c), 1};
}

TEST(CounterTable, TakeIsAllOrNothing) {
  CounterTable t;
  const Counter minute{"m", Rate{2, 60s}};
  const Counter hour{"h", Rate{3, 3600s}};
  EXPECT_TRUE(t.apply(take({minute, hour}), 0).allowed);
  EXPECT_TRUE(t.apply(take({minute, hour}), 100).allowed);
  // The minute is full: refused, and the hour is not charged for it.
  const auto refused = t.apply(take({minute, hour}), 200);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.counters[0].count, 2u);
  EXPECT_EQ(refused.counters[1].count, 2u);
  EXPECT_GT(refused.counters[0].retry_after, 0ms);
  EXPECT_EQ(refused.counters[1].retry_after, 0ms);
  // A minute later the hour allows one more, then refuses.
  EXPECT_TRUE(t.apply(take({minute, hour}), 61000).allowed);
  EXPECT_FALSE(t.apply(take({minute, hour}), 61100).allowed);
}

TEST(CounterTable, AddPeekClear) {
  CounterTable t;
  const Counter c{"fail", Rate{3, 900s}};
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(t.apply({Op::add, {c}, 1}, i).allowed);
  const auto peek = t.apply({Op::peek, {c}, 1}, 10);
  EXPECT_FALSE(peek.allowed);
  EXPECT_EQ(peek.counters[0].count, 5u);
  t.apply({Op::clear, {c}, 1}, 20);
  EXPECT_EQ(t.apply({Op::peek, {c}, 1}, 30).counters[0].count, 0u);
  EXPECT_EQ(t.size(), 0u) << "a peek leaves no empty counter behind";
}

TEST(CounterTable, SweepBoundsMemory) {
  CounterTable t;
  for (int i = 0; i < 10000; ++i) {
    t.apply(take({{"user" + std::to_string(i), Rate{5, 60s}}}), 0);
  }
  EXPECT_EQ(t.size(), 10000u);
  t.sweep(61000);
  EXPECT_EQ(t.size(), 0u);
}

TEST(UserLimits, OverridesReplaceOnlyWhatTheyName) {
  RateLimits r;
  r.defaults.messages = {Rate{5, 60s}};
  r.defaults.recipients = {Rate{100, 86400s}};
  RateLimits::Override bob;
  bob.messages = std::vector<Rate>{Rate{50, 60s}};
  r.overrides["bob@example.com"] = bob;
  RateLimits::Override app;
  app.messages = std::vector<Rate>{};  // no message limit at all
  r.overrides["app@example.com"] = app;
  EXPECT_EQ(r.for_user("alice@example.com").messages, (std::vector<Rate>{Rate{5, 60s}}));
  EXPECT_EQ(r.for_user("bob@example.com").messages, (std::vector<Rate>{Rate{50, 60s}}));
  EXPECT_EQ(r.for_user("bob@example.com").recipients, r.defaults.recipients);
  EXPECT_TRUE(r.for_user("app@example.com").messages.empty());
  EXPECT_FALSE(r.no_user_limits());
  RateLimits none;
  none.defaults = {};
  EXPECT_TRUE(none.no_user_limits());
}

TEST(UserLimits, RequestKeysAndVerdict) {
  const std::vector<Rate> rates{Rate{5, 60s}, Rate{500, 3600s}};
  const auto req = user_request(UserLimit::messages, "bob@example.com", rates);
  ASSERT_EQ(req.counters.size(), 2u);
  EXPECT_EQ(req.op, Op::take);
  EXPECT_EQ(req.counters[0].key, "msg:60000:bob@example.com");
  EXPECT_EQ(req.counters[1].key, "msg:3600000:bob@example.com");
  EXPECT_EQ(user_request(UserLimit::recipients, "bob@example.com", rates).counters[0].key,
            "rcpt:60000:bob@example.com");

  CounterTable t;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(judge(rates, t.apply(req, 1000 * i)).allowed);
  const auto v = judge(rates, t.apply(req, 5500));
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.limit, (Rate{5, 60s}));
  EXPECT_EQ(v.retry_after, 56s);  // the first leaves at 61 s; 55.5 s rounded up
}

}  // namespace
}  // namespace postern::limits
