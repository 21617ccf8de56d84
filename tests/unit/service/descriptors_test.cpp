#include "service/descriptors.hpp"

#include <gtest/gtest.h>

#include "service/privileges.hpp"

namespace postern::service {
namespace {

TEST(Descriptors, MaxSessionsFitsWhenTheLimitIsLarge) {
  const DescriptorNeeds needs{4, 2, 20};
  const auto b = plan_sessions(1'048'576, 10000, needs);
  EXPECT_EQ(b.effective_max_sessions, 10000u);
  EXPECT_FALSE(b.capped);
}

TEST(Descriptors, CapsMaxSessionsBelowTheSoftLimitKeepingTheReserve) {
  const DescriptorNeeds needs{4, 2, 20};
  const std::size_t reserve = reserved_descriptors(needs);
  // systemd's default soft limit, the case of issue 17.
  const auto b = plan_sessions(1024, 10000, needs);
  EXPECT_TRUE(b.capped);
  EXPECT_EQ(b.reserved, reserve);
  EXPECT_EQ(b.effective_max_sessions, 1024 - reserve);
  // At the limit: exactly enough room is not capped; one less is.
  EXPECT_FALSE(plan_sessions(reserve + 100, 100, needs).capped);
  EXPECT_TRUE(plan_sessions(reserve + 99, 100, needs).capped);
}

TEST(Descriptors, ReserveGrowsWithDeliveriesAndLoops) {
  EXPECT_LT(reserved_descriptors({1, 1, 1}), reserved_descriptors({1, 1, 50}));
  EXPECT_LT(reserved_descriptors({1, 1, 1}), reserved_descriptors({1, 8, 1}));
}

TEST(Descriptors, NoRoomAtAllMeansNoSessions) {
  EXPECT_EQ(plan_sessions(10, 100, {4, 2, 20}).effective_max_sessions, 0u);
}

TEST(Descriptors, RaiseKeepsTheHardLimit) {
  const auto before = read_nofile_limit();
  const auto after = raise_nofile_limit();
  EXPECT_EQ(after.hard, before.hard);
  EXPECT_EQ(after.soft, after.hard);
}

TEST(Privileges, DefaultUserOnlyForRoot) {
  EXPECT_EQ(choose_service_user("", true).name, kDefaultServiceUser);
  EXPECT_EQ(choose_service_user("mail", true).name, "mail");
  EXPECT_EQ(choose_service_user("root", true).name, "root");
  EXPECT_EQ(choose_service_user("", false).name, "");
  EXPECT_EQ(choose_service_user("mail", false).name, "");
}

TEST(Privileges, FindsUsersOfThePasswdDatabase) {
  const auto root = find_user("root");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->uid, 0u);
  EXPECT_FALSE(find_user("no-such-user-postern-test").has_value());
}

}  // namespace
}  // namespace postern::service
