#include "auth/throttle.hpp"

#include <gtest/gtest.h>

namespace postern::auth {
namespace {

using namespace std::chrono_literals;

class Throttle : public ::testing::Test {
 protected:
  AuthThrottle::Clock::time_point t0 = AuthThrottle::Clock::now();
  ThrottlePolicy policy{3, 500ms, 10, 900s, 900s};
  AuthThrottle throttle{policy};
};

TEST_F(Throttle, FirstFailuresAreFreeThenDelaysGrow) {
  for (int i = 0; i < 2; ++i) throttle.record_failure("1.2.3.4", "alice", t0);
  EXPECT_EQ(throttle.check("1.2.3.4", "alice", t0).delay, 0ms);
  throttle.record_failure("1.2.3.4", "alice", t0);
  EXPECT_EQ(throttle.check("1.2.3.4", "alice", t0).delay, 500ms);
  throttle.record_failure("1.2.3.4", "alice", t0);
  EXPECT_EQ(throttle.check("1.2.3.4", "alice", t0).delay, 1000ms);
  EXPECT_FALSE(throttle.check("1.2.3.4", "alice", t0).refused);
}

TEST_F(Throttle, RefusedAtTheLimitUntilLockoutEnds) {
  for (int i = 0; i < 9; ++i) throttle.record_failure("1.2.3.4", "u" + std::to_string(i), t0);
  EXPECT_FALSE(throttle.check("1.2.3.4", "new", t0).refused);
  throttle.record_failure("1.2.3.4", "u9", t0);
  EXPECT_TRUE(throttle.check("1.2.3.4", "new", t0).refused);
  EXPECT_FALSE(throttle.check("5.6.7.8", "new", t0).refused);  // other addresses unaffected
  EXPECT_FALSE(throttle.check("1.2.3.4", "new", t0 + 901s).refused);
}

TEST_F(Throttle, PerUserAcrossAddresses) {
  for (int i = 0; i < 10; ++i) throttle.record_failure("10.0.0." + std::to_string(i), "alice", t0);
  EXPECT_TRUE(throttle.check("10.9.9.9", "alice", t0).refused);
  EXPECT_FALSE(throttle.check("10.9.9.9", "bob", t0).refused);
}

TEST_F(Throttle, SuccessClearsUserButNotAddress) {
  for (int i = 0; i < 5; ++i) throttle.record_failure("1.2.3.4", "alice", t0);
  throttle.record_success("1.2.3.4", "alice");
  EXPECT_GT(throttle.check("1.2.3.4", "bob", t0).delay, 0ms);  // address still slowed
  EXPECT_EQ(throttle.check("9.9.9.9", "alice", t0).delay, 0ms);
}

TEST_F(Throttle, OldFailuresAreForgotten) {
  for (int i = 0; i < 5; ++i) throttle.record_failure("1.2.3.4", "alice", t0);
  EXPECT_EQ(throttle.check("1.2.3.4", "alice", t0 + 901s).delay, 0ms);
  throttle.record_failure("1.2.3.4", "alice", t0 + 901s);
  EXPECT_EQ(throttle.check("1.2.3.4", "alice", t0 + 901s).delay, 0ms);  // counting restarts
}

}  // namespace
}  // namespace postern::auth
