#include "metrics/registry.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace postern::metrics {
namespace {

TEST(Registry, RendersCountersWithHelpTypeAndLabels) {
  Registry r;
  r.counter("postern_sessions_total", "Sessions accepted.", {{"listener", "127.0.0.1:25"}}).inc(3);
  r.counter("postern_sessions_total", "Sessions accepted.", {{"listener", "127.0.0.1:587"}}).inc();
  EXPECT_EQ(r.render(),
            "# HELP postern_sessions_total Sessions accepted.\n"
            "# TYPE postern_sessions_total counter\n"
            "postern_sessions_total{listener=\"127.0.0.1:25\"} 3\n"
            "postern_sessions_total{listener=\"127.0.0.1:587\"} 1\n");
}

TEST(Registry, SameNameAndLabelsIsTheSameCounter) {
  Registry r;
  Counter& a = r.counter("x_total", "X.", {{"k", "v"}});
  Counter& b = r.counter("x_total", "X.", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
}

TEST(Registry, EscapesLabelValues) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(format_labels({{"a", "1"}, {"b", "x\"y"}}), "{a=\"1\",b=\"x\\\"y\"}");
}

TEST(Histogram, BucketsAreCumulativeAndAgreeWithCount) {
  Registry r;
  auto& h = r.histogram("lat_seconds", "Latency.", {0.1, 1}, {{"destination", "local"}});
  h.observe(0.05);
  h.observe(0.1);  // on the bound: counted in le="0.1" (upper bounds are inclusive)
  h.observe(0.5);
  h.observe(7);
  EXPECT_EQ(r.render(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{destination=\"local\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{destination=\"local\",le=\"1\"} 3\n"
            "lat_seconds_bucket{destination=\"local\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{destination=\"local\"} 7.65\n"
            "lat_seconds_count{destination=\"local\"} 4\n");
}

TEST(Registry, SampledGaugesAreReadAtRenderTime) {
  Registry r;
  double size = 1;
  r.sampled_gauge("queue_messages", "Queued.", [&] {
    return std::vector<std::pair<Labels, double>>{{{}, size}};
  });
  EXPECT_NE(r.render().find("queue_messages 1\n"), std::string::npos);
  size = 5;
  EXPECT_NE(r.render().find("queue_messages 5\n"), std::string::npos);
}

TEST(Registry, CountsFromManyThreads) {
  Registry r;
  Counter& c = r.counter("c_total", "C.");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.inc();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000u);
}

TEST(Registry, OneNameCannotHaveTwoTypes) {
  Registry r;
  r.counter("x", "X.");
  EXPECT_THROW(r.gauge("x", "X."), std::logic_error);
}

}  // namespace
}  // namespace postern::metrics

#include "metrics/server_metrics.hpp"

namespace postern::metrics {
namespace {

TEST(RejectReason, NamesTheRefusalsOperatorsAskAbout) {
  EXPECT_EQ(reject_reason(Reply(554, "5.7.1", "Relay access denied")), "relay_denied");
  EXPECT_EQ(reject_reason(Reply(550, "5.1.1", "no such user")), "unknown_user");
  EXPECT_EQ(reject_reason(Reply(553, "5.7.1", "not owned")), "sender_not_owned");
  EXPECT_EQ(reject_reason(Reply(530, "5.7.0", "Authentication required")), "auth_required");
  EXPECT_EQ(reject_reason(Reply(552, "5.3.4", "too big")), "message_too_large");
  EXPECT_EQ(reject_reason(Reply(452, "4.5.3", "Too many recipients")), "too_many_recipients");
  EXPECT_EQ(reject_reason(Reply(452, "4.3.1", "storage")), "storage");
  EXPECT_EQ(reject_reason(Reply(500, "5.5.1", "unknown")), "protocol");
  EXPECT_EQ(reject_reason(Reply(550, "5.7.26", "dmarc")), "other");
}

}  // namespace
}  // namespace postern::metrics
