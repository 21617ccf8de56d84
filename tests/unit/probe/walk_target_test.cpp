// What the user types as the probe's target and timeout.
#include <gtest/gtest.h>

#include "probe/target.hpp"

namespace postern::probe {
namespace {

using namespace std::chrono_literals;

TEST(Target, HostAndPortForms) {
  std::string why;
  auto t = parse_target("smtp.example.test:587", why);
  ASSERT_TRUE(t) << why;
  EXPECT_EQ(t->host, "smtp.example.test");
  EXPECT_EQ(t->port, 587);
  t = parse_target("smtp.example.test", why);
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->port);
  t = parse_target("[2001:db8::1]:465", why);
  ASSERT_TRUE(t) << why;
  EXPECT_EQ(t->host, "2001:db8::1");
  EXPECT_EQ(t->port, 465);
  t = parse_target("2001:db8::1", why);  // a bare literal: its last group is no port
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "2001:db8::1");
  EXPECT_FALSE(t->port);
  t = parse_target("192.0.2.7:25", why);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "192.0.2.7");
  EXPECT_EQ(t->port, 25);
}

TEST(Target, Refusals) {
  std::string why;
  EXPECT_FALSE(parse_target("", why));
  EXPECT_FALSE(why.empty());
  EXPECT_FALSE(parse_target(":587", why));
  EXPECT_FALSE(parse_target("host:0", why));
  EXPECT_FALSE(parse_target("host:65536", why));
  EXPECT_FALSE(parse_target("host:abc", why));
  EXPECT_NE(why.find("host:abc"), std::string::npos);
  EXPECT_FALSE(parse_target("[2001:db8::1]", why));
}

TEST(Target, Timeouts) {
  EXPECT_EQ(parse_timeout("10"), 10000ms);
  EXPECT_EQ(parse_timeout("10s"), 10000ms);
  EXPECT_EQ(parse_timeout("2.5s"), 2500ms);
  EXPECT_EQ(parse_timeout("500ms"), 500ms);
  EXPECT_EQ(parse_timeout("1m"), 60000ms);
  EXPECT_FALSE(parse_timeout(""));
  EXPECT_FALSE(parse_timeout("s"));
  EXPECT_FALSE(parse_timeout("0"));
  EXPECT_FALSE(parse_timeout("-1"));
  EXPECT_FALSE(parse_timeout("10h"));
  EXPECT_FALSE(parse_timeout("2h"));
}

}  // namespace
}  // namespace postern::probe
