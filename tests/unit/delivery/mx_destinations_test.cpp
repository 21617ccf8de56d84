#include "delivery/mx_destinations.hpp"

#include <gtest/gtest.h>

namespace postern::delivery {
namespace {

using std::chrono::seconds;
using Time = MxDestinations::Time;

MxAnswer hosts(std::vector<std::string> h) {
  MxAnswer a;
  a.ok = true;
  a.hosts = std::move(h);
  return a;
}

TEST(MxDestinations, TheNameIsTheHostSetWhateverTheOrderCaseOrTrailingDot) {
  EXPECT_EQ(MxDestinations::name_of({"mx2.example.net", "MX1.example.net."}),
            "mx:mx1.example.net,mx2.example.net");
  EXPECT_EQ(MxDestinations::name_of({"mx1.example.net", "mx2.example.net", "mx1.example.net"}),
            "mx:mx1.example.net,mx2.example.net");
  EXPECT_NE(MxDestinations::name_of({"mx1.example.net"}),
            MxDestinations::name_of({"mx1.example.net", "mx2.example.net"}));
}

TEST(MxDestinations, TwoDomainsWithTheSameHostsShareOneDestination) {
  MxDestinations mx;
  const Time now{};
  EXPECT_EQ(mx.destination("a.test"), std::nullopt);
  EXPECT_TRUE(mx.needs_lookup("a.test", now));
  const std::string a = mx.answer("a.test", hosts({"mx1.shared.test", "mx2.shared.test"}), now);
  const std::string b = mx.answer("b.test", hosts({"MX2.shared.test", "mx1.shared.test"}), now);
  EXPECT_EQ(a, b);
  EXPECT_EQ(mx.destination("a.test"), a);
  EXPECT_EQ(mx.destination("b.test"), a);
  EXPECT_NE(mx.answer("c.test", hosts({"mx.c.test"}), now), a);
}

TEST(MxDestinations, AFailedLookupMakesTheDomainItsOwnDestinationForAShortWhile) {
  MxDestinations mx(seconds(300), seconds(60));
  const Time now{};
  MxAnswer failed;
  failed.error = "SERVFAIL";
  EXPECT_EQ(mx.answer("down.test", failed, now), "down.test");
  EXPECT_EQ(mx.destination("down.test"), "down.test");
  EXPECT_FALSE(mx.needs_lookup("down.test", now + seconds(59)));
  EXPECT_TRUE(mx.needs_lookup("down.test", now + seconds(60)));
  // An empty host list is no better than a failure.
  EXPECT_EQ(mx.answer("empty.test", hosts({}), now), "empty.test");
}

TEST(MxDestinations, AnExpiredAnswerStillCountsUntilTheFreshOneComes) {
  MxDestinations mx(seconds(300), seconds(60));
  const Time now{};
  const std::string first = mx.answer("a.test", hosts({"mx1.test"}), now);
  EXPECT_FALSE(mx.needs_lookup("a.test", now + seconds(299)));
  EXPECT_TRUE(mx.needs_lookup("a.test", now + seconds(300)));
  EXPECT_EQ(mx.destination("a.test"), first);
  const std::string second = mx.answer("a.test", hosts({"mx2.test"}), now + seconds(300));
  EXPECT_NE(second, first);
  EXPECT_EQ(mx.destination("a.test"), second);
  EXPECT_FALSE(mx.needs_lookup("a.test", now + seconds(301)));
}

}  // namespace
}  // namespace postern::delivery
