// The credential cache (SPEC §1.10): a hit needs the same user, password
// and stored hash within the ttl; wrong passwords never hit; the size is
// bounded; a changed users file drops what no longer matches.
#include "auth/credential_cache.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace postern::auth {
namespace {

using Clock = CredentialCache::Clock;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(CredentialCache, HitsOnlyTheRememberedPasswordWithinTtl) {
  CredentialCache cache(minutes(15));
  const auto t0 = Clock::now();
  EXPECT_FALSE(cache.hit("alice@x", "pw", "$argon2id$A", t0));
  cache.remember("alice@x", "pw", "$argon2id$A", t0);
  EXPECT_TRUE(cache.hit("alice@x", "pw", "$argon2id$A", t0 + minutes(14)));
  EXPECT_FALSE(cache.hit("alice@x", "pw ", "$argon2id$A", t0));
  EXPECT_FALSE(cache.hit("alice@x", "", "$argon2id$A", t0));
  EXPECT_FALSE(cache.hit("bob@x", "pw", "$argon2id$A", t0));
  // A wrong password leaves the good entry alone.
  EXPECT_TRUE(cache.hit("alice@x", "pw", "$argon2id$A", t0 + minutes(1)));
  // Another stored hash (the password was changed): no hit.
  EXPECT_FALSE(cache.hit("alice@x", "pw", "$argon2id$B", t0));
  cache.remember("alice@x", "pw", "$argon2id$A", t0);
  EXPECT_FALSE(cache.hit("alice@x", "pw", "$argon2id$A", t0 + minutes(15)));
  EXPECT_EQ(cache.size(), 0u);  // the expired entry went with the miss
}

TEST(CredentialCache, FieldsAreNotConcatenatedAmbiguously) {
  CredentialCache cache(minutes(15));
  const auto t0 = Clock::now();
  cache.remember("a@x", "bc", "$h", t0);
  EXPECT_FALSE(cache.hit("a@x", "b", "c$h", t0));
}

TEST(CredentialCache, TtlZeroIsOff) {
  CredentialCache cache(seconds(0));
  const auto t0 = Clock::now();
  cache.remember("alice@x", "pw", "$h", t0);
  EXPECT_FALSE(cache.hit("alice@x", "pw", "$h", t0));
  EXPECT_EQ(cache.size(), 0u);
  cache.set_ttl(minutes(1));
  cache.remember("alice@x", "pw", "$h", t0);
  EXPECT_TRUE(cache.hit("alice@x", "pw", "$h", t0));
  cache.set_ttl(seconds(0));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(CredentialCache, BoundedSizeEvictsTheOldest) {
  CredentialCache cache(minutes(15), 3);
  const auto t0 = Clock::now();
  for (int i = 0; i < 10; ++i) {
    cache.remember("u" + std::to_string(i) + "@x", "pw", "$h", t0 + seconds(i));
    EXPECT_LE(cache.size(), 3u);
  }
  EXPECT_TRUE(cache.hit("u9@x", "pw", "$h", t0 + seconds(10)));
  EXPECT_TRUE(cache.hit("u7@x", "pw", "$h", t0 + seconds(10)));
  EXPECT_FALSE(cache.hit("u0@x", "pw", "$h", t0 + seconds(10)));
}

TEST(CredentialCache, DropChangedKeepsOnlyUnchangedUsers) {
  CredentialCache cache(minutes(15));
  const auto t0 = Clock::now();
  cache.remember("same@x", "pw", "$h1", t0);
  cache.remember("changed@x", "pw", "$h2", t0);
  cache.remember("gone@x", "pw", "$h3", t0);
  cache.drop_changed([](std::string_view user) -> std::optional<std::string> {
    if (user == "same@x") return "$h1";
    if (user == "changed@x") return "$h2-new";
    return std::nullopt;
  });
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(cache.hit("same@x", "pw", "$h1", t0));
}

}  // namespace
}  // namespace postern::auth
