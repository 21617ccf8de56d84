#include "net/session_limiter.hpp"

#include <gtest/gtest.h>

namespace postern::net {
namespace {

using A = SessionLimiter::Admission;

TEST(SessionLimiter, PerAddressLimitAtTheLimitAndOneOver) {
  SessionLimiter l(100, 2);
  EXPECT_EQ(l.acquire("10.0.0.1"), A::admitted);
  EXPECT_EQ(l.acquire("10.0.0.1"), A::admitted);
  EXPECT_EQ(l.acquire("10.0.0.1"), A::too_many_from_ip);
  EXPECT_EQ(l.acquire("10.0.0.2"), A::admitted);
  l.release("10.0.0.1");
  EXPECT_EQ(l.acquire("10.0.0.1"), A::admitted);
  EXPECT_EQ(l.active(), 3u);
}

TEST(SessionLimiter, GlobalLimit) {
  SessionLimiter l(2, 10);
  EXPECT_EQ(l.acquire("a"), A::admitted);
  EXPECT_EQ(l.acquire("b"), A::admitted);
  EXPECT_EQ(l.acquire("c"), A::too_many_total);
  l.release("a");
  EXPECT_EQ(l.acquire("c"), A::admitted);
}

TEST(SessionLimiter, RefusalsLeaveNoCount) {
  SessionLimiter l(1, 1);
  EXPECT_EQ(l.acquire("a"), A::admitted);
  EXPECT_EQ(l.acquire("b"), A::too_many_total);
  l.release("a");
  EXPECT_EQ(l.active(), 0u);
  EXPECT_EQ(l.acquire("b"), A::admitted);
}

}  // namespace
}  // namespace postern::net

namespace postern::net {
namespace {

TEST(SessionLimiter, NewLimitsApplyToTheNextAdmission) {
  SessionLimiter l(2, 10);
  EXPECT_EQ(l.acquire("a"), SessionLimiter::Admission::admitted);
  EXPECT_EQ(l.acquire("b"), SessionLimiter::Admission::admitted);
  l.set_limits(1, 10);  // lowered below what is open: nobody is dropped
  EXPECT_EQ(l.active(), 2u);
  EXPECT_EQ(l.acquire("c"), SessionLimiter::Admission::too_many_total);
  l.release("a");
  EXPECT_EQ(l.acquire("c"), SessionLimiter::Admission::too_many_total);
  l.release("b");
  EXPECT_EQ(l.acquire("c"), SessionLimiter::Admission::admitted);
  l.set_limits(10, 1);
  EXPECT_EQ(l.acquire("c"), SessionLimiter::Admission::too_many_from_ip);
}

}  // namespace
}  // namespace postern::net

namespace postern::net {
namespace {

TEST(SessionLimiter, NetworksAreTheV4Slash24AndTheV6Slash64) {
  EXPECT_EQ(SessionLimiter::network_of("192.0.2.77"), "192.0.2.0/24");
  EXPECT_EQ(SessionLimiter::network_of("192.0.3.77"), "192.0.3.0/24");
  EXPECT_EQ(SessionLimiter::network_of("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(SessionLimiter::network_of("2001:db8:1:3::1"), "2001:db8:1:3::/64");
  EXPECT_EQ(SessionLimiter::network_of("not-an-address"), "not-an-address");
}

TEST(SessionLimiter, PerNetworkLimitAcrossAddresses) {
  // max_per_ip 2: a /24 or a /64 gets 4 x 2 = 8 sessions.
  SessionLimiter l(1000, 2);
  ASSERT_EQ(l.max_per_network(), 8u);
  for (int host = 1; host <= 4; ++host) {
    const std::string ip = "198.51.100." + std::to_string(host);
    EXPECT_EQ(l.acquire(ip), A::admitted) << ip;
    EXPECT_EQ(l.acquire(ip), A::admitted) << ip;
  }
  // A fresh address in the same /24: refused for its network.
  EXPECT_EQ(l.acquire("198.51.100.200"), A::too_many_from_network);
  // The next /24 is another network.
  EXPECT_EQ(l.acquire("198.51.101.1"), A::admitted);
  // One leaves: one more from the network gets on.
  l.release("198.51.100.3");
  EXPECT_EQ(l.acquire("198.51.100.200"), A::admitted);
  EXPECT_EQ(l.acquire("198.51.100.201"), A::too_many_from_network);

  // IPv6: every address of one /64 counts against it.
  for (int host = 1; host <= 8; ++host) {
    EXPECT_EQ(l.acquire("2001:db8:0:7::" + std::to_string(host)), A::admitted) << host;
  }
  EXPECT_EQ(l.acquire("2001:db8:0:7:ffff::9"), A::too_many_from_network);
  EXPECT_EQ(l.acquire("2001:db8:0:8::1"), A::admitted);
  EXPECT_EQ(l.active(), 8u + 1u + 8u + 1u);
}

TEST(SessionLimiter, ReleasingEveryoneLeavesNoNetworkCount) {
  SessionLimiter l(1000, 1);
  for (int round = 0; round < 3; ++round) {
    for (int host = 1; host <= 4; ++host) {
      EXPECT_EQ(l.acquire("203.0.113." + std::to_string(host)), A::admitted) << round;
    }
    EXPECT_EQ(l.acquire("203.0.113.9"), A::too_many_from_network) << round;
    for (int host = 1; host <= 4; ++host) l.release("203.0.113." + std::to_string(host));
    EXPECT_EQ(l.active(), 0u);
  }
}

}  // namespace
}  // namespace postern::net
