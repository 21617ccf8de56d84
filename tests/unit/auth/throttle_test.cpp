// The AUTH failure throttle's policy, with its counters answered by an
// in-memory CounterTable fed time (the same answers a state backend gives).
#include "auth/throttle.hpp"

#include <gtest/gtest.h>

#include "auth/user_store.hpp"

namespace postern::auth {
namespace {

using namespace std::chrono_literals;

class Throttle : public ::testing::Test {
 protected:
  ThrottlePolicy policy;  // 10/15m per address and per user, 3 free, 500 ms steps
  AuthThrottle throttle{policy};
  limits::CounterTable table;
  std::int64_t now = 1'000'000;

  AuthThrottle::Verdict check(std::string_view ip, std::string_view user) {
    return throttle.judge(table.apply(throttle.check_request(ip, normalize_address(user)), now));
  }
  void fail(std::string_view ip, std::string_view user) {
    table.apply(throttle.failure_request(ip, normalize_address(user)), now);
  }
  void succeed(std::string_view ip, std::string_view user) {
    for (const auto& r : throttle.success_requests(ip, normalize_address(user))) {
      table.apply(r, now);
    }
  }
};

TEST_F(Throttle, FirstFailuresAreFreeThenDelaysGrow) {
  for (int i = 0; i < 2; ++i) fail("1.2.3.4", "alice@x.test");
  EXPECT_EQ(check("1.2.3.4", "alice@x.test").delay, 0ms);
  fail("1.2.3.4", "alice@x.test");
  EXPECT_EQ(check("1.2.3.4", "alice@x.test").delay, 500ms);
  fail("1.2.3.4", "alice@x.test");
  EXPECT_EQ(check("1.2.3.4", "alice@x.test").delay, 1000ms);
  EXPECT_FALSE(check("1.2.3.4", "alice@x.test").refused);
}

TEST_F(Throttle, AddressRefusedAtTheLimitUntilTheWindowMoves) {
  for (int i = 0; i < 9; ++i) fail("1.2.3.4", "u" + std::to_string(i) + "@x.test");
  EXPECT_FALSE(check("1.2.3.4", "new@x.test").refused);
  fail("1.2.3.4", "u9@x.test");
  const auto v = check("1.2.3.4", "new@x.test");
  EXPECT_TRUE(v.refused);
  EXPECT_EQ(v.why, "address");
  EXPECT_FALSE(check("5.6.7.8", "new@x.test").refused);  // other addresses unaffected
  now += 15 * 60 * 1000 + 15000;                         // window plus one bucket
  EXPECT_FALSE(check("1.2.3.4", "new@x.test").refused);
}

TEST_F(Throttle, OneUserWhateverTheCaseAndTheAddress) {
  // 10 guesses for dave over 10 addresses of 10 networks and in 10
  // spellings: one user, one count.
  const char* spellings[] = {"dave@local.test", "DAVE@local.test", "dave@LOCAL.test",
                             "Dave@Local.Test", "dAvE@lOcAl.TeSt", "dave@local.TEST",
                             "DAVE@LOCAL.TEST", "dave@Local.test", "daVe@local.test",
                             "davE@LOCAL.test"};
  for (int i = 0; i < 10; ++i) fail("10." + std::to_string(i) + ".0.1", spellings[i]);
  const auto v = check("10.99.0.1", "Dave@Local.TEST");
  EXPECT_TRUE(v.refused);
  EXPECT_EQ(v.why, "user");
  EXPECT_FALSE(check("10.99.0.1", "bob@local.test").refused);
}

TEST_F(Throttle, TheUsersKnownNetworkIsNotLockedOutByStrangers) {
  succeed("192.0.2.10", "carol@local.test");  // carol's office, 192.0.2.0/24
  for (int i = 0; i < 10; ++i) fail("198.51.100." + std::to_string(i), "carol@local.test");
  EXPECT_TRUE(check("203.0.113.5", "carol@local.test").refused) << "a stranger is locked out";
  // Another machine in carol's office network still logs in.
  EXPECT_FALSE(check("192.0.2.77", "CAROL@local.test").refused);
  // But guessing from the office network itself is counted there.
  for (int i = 0; i < 10; ++i) fail("192.0.2.200", "carol@local.test");
  const auto v = check("192.0.2.11", "carol@local.test");
  EXPECT_TRUE(v.refused);
  EXPECT_EQ(v.why, "user_network");
}

TEST_F(Throttle, SuccessRestartsTheNetworksCountButNotTheAddressOrTheUser) {
  for (int i = 0; i < 5; ++i) fail("1.2.3.4", "alice@x.test");
  succeed("1.2.3.4", "alice@x.test");
  EXPECT_GT(check("1.2.3.4", "bob@x.test").delay, 0ms);  // the address is still slowed
  EXPECT_EQ(check("1.2.3.99", "alice@x.test").delay, 0ms);
}

TEST_F(Throttle, ConfiguredLimits) {
  ThrottlePolicy p;
  p.per_ip = limits::Rate{3, 60s};
  p.per_user = limits::Rate{100, 3600s};
  throttle = AuthThrottle(p);
  for (int i = 0; i < 3; ++i) fail("1.2.3.4", "a" + std::to_string(i) + "@x.test");
  EXPECT_TRUE(check("1.2.3.4", "z@x.test").refused);
  now += 62000;
  EXPECT_FALSE(check("1.2.3.4", "z@x.test").refused);
}

TEST(ClientNetwork, SlashTwentyFourAndSixtyFour) {
  EXPECT_EQ(client_network("192.0.2.77"), "192.0.2.0/24");
  EXPECT_EQ(client_network("127.0.0.1"), "127.0.0.0/24");
  EXPECT_EQ(client_network("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_network("::1"), "::/64");
  EXPECT_EQ(client_network("not an address"), "not an address");
}

}  // namespace
}  // namespace postern::auth
