// AuthService with the users file: the credential cache (SPEC §1.10) and
// equal timing for unknown and known users (SPEC §1.3).
//   - the second login of a user costs no argon2id hash and no pool thread;
//   - a password change or a removed user takes effect at the next login;
//   - a wrong password is still refused and really hashed;
//   - an unknown user costs one hash, like a known one with a wrong password.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "auth/user_store.hpp"
#include "net/auth_service.hpp"
#include "tools/temp_dir.hpp"

namespace postern::net {
namespace {

using postern::testing::TempDir;
using Outcome = smtp::AuthOutcome;

struct Answer {
  AuthService::Result result;
  std::thread::id thread;
  std::chrono::microseconds took{0};
};

Answer verify(AuthService& auth, const std::string& ip, const std::string& user,
              const std::string& password) {
  std::promise<Answer> p;
  const auto started = std::chrono::steady_clock::now();
  auth.verify(ip, user, password, [&p, started](AuthService::Result r) {
    Answer a;
    a.result = std::move(r);
    a.thread = std::this_thread::get_id();
    a.took = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    p.set_value(std::move(a));
  });
  auto f = p.get_future();
  EXPECT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  return f.get();
}

// Writes the users file and moves its modification time on, so that
// reload_if_changed() sees the change even within one clock tick.
void write_users(const TempDir& dir, const std::string& text) {
  static int generation = 0;
  const auto path = dir.write("users", text);
  std::filesystem::last_write_time(
      path, std::filesystem::file_time_type::clock::now() + std::chrono::seconds(++generation));
}

// Counts the hashes while still checking them for real.
std::shared_ptr<std::atomic<int>> count_hashes(AuthService& auth) {
  auto n = std::make_shared<std::atomic<int>>(0);
  auth.set_password_verifier([n](std::string_view hash, std::string_view password) {
    ++*n;
    return auth::verify_password(hash, password);
  });
  return n;
}

class AuthServiceCache : public ::testing::Test {
 protected:
  void SetUp() override {
    hash1_ = auth::hash_password("first password");
    write_users(dir_, "alice@example.test:" + hash1_ + "\n");
  }
  TempDir dir_;
  std::string hash1_;
};

TEST_F(AuthServiceCache, SecondLoginCostsNoHashAndNoPoolThread) {
  AuthService auth(dir_ / "users", 1);
  auto hashes = count_hashes(auth);
  const auto first = verify(auth, "192.0.2.1", "alice@example.test", "first password");
  EXPECT_EQ(first.result.outcome, Outcome::ok);
  EXPECT_EQ(*hashes, 1);
  EXPECT_NE(first.thread, std::this_thread::get_id());  // hashed on the pool
  for (int i = 0; i < 10; ++i) {
    // Another client, another spelling of the address: the same user.
    const auto again =
        verify(auth, "192.0.2." + std::to_string(2 + i),
               i % 2 ? "Alice@Example.TEST" : "alice@example.test", "first password");
    EXPECT_EQ(again.result.outcome, Outcome::ok) << i;
    EXPECT_EQ(again.thread, std::this_thread::get_id()) << i;  // answered inline
  }
  EXPECT_EQ(*hashes, 1);
  EXPECT_EQ(auth.cached_credentials(), 1u);
}

TEST_F(AuthServiceCache, TenClientsAtOnceCostOneHash) {
  // Ten logins that all miss the empty cache queue on the one pool thread;
  // the first hash fills the cache for the nine behind it.
  AuthService auth(dir_ / "users", 1);
  auto hashes = count_hashes(auth);
  std::vector<std::promise<AuthService::Result>> answers(10);
  for (int i = 0; i < 10; ++i) {
    auth.verify("192.0.2." + std::to_string(10 + i), "alice@example.test", "first password",
                [&answers, i](AuthService::Result r) { answers[i].set_value(r); });
  }
  for (auto& a : answers) {
    auto f = a.get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    EXPECT_EQ(f.get().outcome, Outcome::ok);
  }
  EXPECT_EQ(*hashes, 1);
}

// The throttle sits in front of AuthService (net/connection.cpp, counted in
// state/); tests/unit/auth/throttle_test.cpp and e2e test_auth_throttle show
// that a locked-out user is refused before any cache lookup.
TEST_F(AuthServiceCache, WrongPasswordIsRefusedAndHashed) {
  AuthService auth(dir_ / "users", 1);
  auto hashes = count_hashes(auth);
  ASSERT_EQ(verify(auth, "192.0.2.1", "alice@example.test", "first password").result.outcome,
            Outcome::ok);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(verify(auth, "198.51.100.9", "alice@example.test", "guess").result.outcome,
              Outcome::invalid)
        << i;
  }
  EXPECT_EQ(*hashes, 6);  // every wrong password was really checked
  // The wrong guesses did not evict the owner's cached login.
  EXPECT_EQ(verify(auth, "192.0.2.1", "alice@example.test", "first password").result.outcome,
            Outcome::ok);
  EXPECT_EQ(*hashes, 6);
}

TEST_F(AuthServiceCache, PasswordChangeAndRemovalTakeEffectAtTheNextLogin) {
  AuthService auth(dir_ / "users", 1);
  auto hashes = count_hashes(auth);
  ASSERT_EQ(verify(auth, "192.0.2.1", "alice@example.test", "first password").result.outcome,
            Outcome::ok);
  ASSERT_EQ(auth.cached_credentials(), 1u);
  // `postern user passwd`: the file changes, the poll re-reads it.
  write_users(dir_, "alice@example.test:" + auth::hash_password("second password") + "\n");
  ASSERT_TRUE(auth.reload_if_changed());
  EXPECT_EQ(auth.cached_credentials(), 0u);
  EXPECT_EQ(verify(auth, "192.0.2.1", "alice@example.test", "first password").result.outcome,
            Outcome::invalid);
  EXPECT_EQ(verify(auth, "192.0.2.1", "alice@example.test", "second password").result.outcome,
            Outcome::ok);
  const int after_change = *hashes;
  EXPECT_EQ(after_change, 3);
  EXPECT_EQ(verify(auth, "192.0.2.1", "alice@example.test", "second password").result.outcome,
            Outcome::ok);
  EXPECT_EQ(*hashes, after_change);  // cached again
  // `postern user del`: gone at once, cached or not.
  write_users(dir_, "bob@example.test:" + hash1_ + "\n");
  ASSERT_TRUE(auth.reload_if_changed());
  EXPECT_EQ(verify(auth, "192.0.2.1", "alice@example.test", "second password").result.outcome,
            Outcome::invalid);
  EXPECT_EQ(auth.cached_credentials(), 0u);
}

TEST_F(AuthServiceCache, TtlZeroHashesEveryLogin) {
  AuthService auth(dir_ / "users", 1);
  auth.set_cache_ttl(std::chrono::seconds(0));
  auto hashes = count_hashes(auth);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(verify(auth, "192.0.2.1", "alice@example.test", "first password").result.outcome,
              Outcome::ok);
  }
  EXPECT_EQ(*hashes, 3);
}

TEST_F(AuthServiceCache, UnknownUserCostsOneHashToo) {
  AuthService auth(dir_ / "users", 1);
  auto hashes = count_hashes(auth);
  EXPECT_EQ(verify(auth, "192.0.2.1", "nobody@example.test", "first password").result.outcome,
            Outcome::invalid);
  EXPECT_EQ(*hashes, 1);
}

std::chrono::microseconds median(std::vector<std::chrono::microseconds> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The real argon2id, no fake: 50 unknown users against 50 wrong passwords
// of known users, each from its own address so the throttle never refuses
// (a refusal answers without hashing and would skew the figures).
TEST(AuthServiceTiming, UnknownAndKnownUsersCostTheSame) {
  TempDir dir;
  const std::string hash = auth::hash_password("the right one");
  std::string users;
  for (int u = 0; u < 10; ++u)
    users += "known" + std::to_string(u) + "@example.test:" + hash + "\n";
  write_users(dir, users);
  AuthService auth(dir / "users", 1);
  std::vector<std::chrono::microseconds> unknown, known;
  for (int i = 0; i < 50; ++i) {
    // Interleaved, so a change in machine load hits both sides alike.
    auto a = verify(auth, "10.1.0." + std::to_string(i),
                    "nobody" + std::to_string(i) + "@example.test", "guess");
    ASSERT_EQ(a.result.outcome, Outcome::invalid);
    unknown.push_back(a.took);
    auto b = verify(auth, "10.2.0." + std::to_string(i),
                    "known" + std::to_string(i % 10) + "@example.test", "guess");
    ASSERT_EQ(b.result.outcome, Outcome::invalid);
    known.push_back(b.took);
  }
  const double u = static_cast<double>(median(unknown).count());
  const double k = static_cast<double>(median(known).count());
  const double ratio = u / k;
  std::printf("auth timing: median unknown=%.1f ms known=%.1f ms ratio=%.2f (50 each)\n",
              u / 1000.0, k / 1000.0, ratio);
  EXPECT_GT(ratio, 0.5);
  EXPECT_LT(ratio, 2.0);
  EXPECT_GT(u, 1000.0);  // a real argon2id hash, not a shortcut (~tens of ms)
}

}  // namespace
}  // namespace postern::net
