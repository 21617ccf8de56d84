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
