#include "limits/rate.hpp"

#include <gtest/gtest.h>

namespace postern::limits {
namespace {

using namespace std::chrono_literals;

struct Good {
  const char* text;
  std::uint64_t count;
  std::chrono::milliseconds window;
  const char* canonical;
};

TEST(ParseRate, GoodRates) {
  const Good table[] = {
      {"30/1m", 30, 60s, "30/1m"},
      {"500/1h", 500, 3600s, "500/1h"},
      {"2000/1d", 2000, 86400s, "2000/1d"},
      {"10/15m", 10, 900s, "10/15m"},
      {"30/m", 30, 60s, "30/1m"},
      {"1/1s", 1, 1s, "1/1s"},
      {"90/90s", 90, 90s, "90/90s"},
      {"5/120m", 5, 7200s, "5/2h"},
      {"1000000000/30d", 1000000000, 30 * 86400s, "1000000000/30d"},
  };
  for (const auto& g : table) {
    const auto r = parse_rate(g.text);
    ASSERT_TRUE(r.rate) << g.text << ": " << r.error;
    EXPECT_EQ(r.rate->count, g.count) << g.text;
    EXPECT_EQ(r.rate->window, g.window) << g.text;
    EXPECT_EQ(r.rate->text(), g.canonical) << g.text;
  }
}

struct Bad {
  const char* text;
  const char* says;  // part of the error
};

TEST(ParseRate, BadRatesSayWhatIsWrong) {
  const Bad table[] = {
      {"30", "no \"/\""},
      {"", "no \"/\""},
      {"/1m", "count \"\" is not a whole number"},
      {"x/1m", "count \"x\" is not a whole number"},
      {"-1/1m", "not a whole number"},
      {"0/1m", "count of 0"},
      {"1000000001/1d", "above the largest"},
      {"30/", "window after \"/\" is missing"},
      {"30/1", "needs a unit"},
      {"30/1x", "needs a unit"},
      {"30/1M", "needs a unit"},
      {"30/0m", "positive number"},
      {"30/1.5h", "positive number"},
      {"30/31d", "outside 1s to 30d"},
      {"30/1m ", "needs a unit"},
      {" 30/1m", "not a whole number"},
  };
  for (const auto& b : table) {
    const auto r = parse_rate(b.text);
    EXPECT_FALSE(r.rate) << b.text;
    EXPECT_NE(r.error.find(b.says), std::string::npos) << b.text << ": " << r.error;
  }
}

TEST(Rate, PerSecondComparesWindows) {
  EXPECT_DOUBLE_EQ(parse_rate("60/1m").rate->per_second(), 1.0);
  EXPECT_GT(parse_rate("30/1m").rate->per_second(), parse_rate("500/1h").rate->per_second());
}

}  // namespace
}  // namespace postern::limits
