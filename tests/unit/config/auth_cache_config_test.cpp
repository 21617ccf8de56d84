// [auth] cache_ttl (SPEC §1.10): default, durations, range, `postern config`
// output, and the lint when Dovecot checks the passwords instead.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config/effective.hpp"
#include "tools/temp_dir.hpp"

namespace postern::config {
namespace {

using postern::testing::TempDir;
using ::testing::HasSubstr;

const std::string kBase =
    "hostname = \"mail.example.com\"\n"
    "data_dir = \"data\"\n"
    "local_domains = [\"example.com\"]\n"
    "[[listener]]\naddress = \"127.0.0.1:25\"\nrole = \"relay\"\ntls = \"none\"\n";

std::string all_problems(const LoadResult& r) {
  std::string out;
  for (const auto& p : r.problems) out += p.where + ": " + p.message + " | " + p.fix + "\n";
  return out;
}

TEST(AuthCacheConfig, DefaultIsFifteenMinutesAndPrinted) {
  TempDir dir;
  auto r = load_string(kBase, "postern.toml", dir.path());
  ASSERT_TRUE(r.config) << all_problems(r);
  EXPECT_EQ(r.config->auth.cache_ttl, std::chrono::minutes(15));
  EXPECT_THAT(render_effective(*r.config), HasSubstr("cache_ttl = \"900s\"  # default\n"));
}

TEST(AuthCacheConfig, DurationsZeroAndOutOfRange) {
  TempDir dir;
  auto r = load_string(kBase + "[auth]\ncache_ttl = \"1h\"\n", "postern.toml", dir.path());
  ASSERT_TRUE(r.config) << all_problems(r);
  EXPECT_EQ(r.config->auth.cache_ttl, std::chrono::hours(1));
  EXPECT_THAT(render_effective(*r.config), HasSubstr("cache_ttl = \"3600s\"\n"));
  auto off = load_string(kBase + "[auth]\ncache_ttl = 0\n", "postern.toml", dir.path());
  ASSERT_TRUE(off.config) << all_problems(off);
  EXPECT_EQ(off.config->auth.cache_ttl, std::chrono::seconds(0));
  auto big = load_string(kBase + "[auth]\ncache_ttl = \"2d\"\n", "postern.toml", dir.path());
  EXPECT_FALSE(big.config);
  EXPECT_THAT(all_problems(big), HasSubstr("postern.toml:9: auth.cache_ttl is out of range"));
  auto bad = load_string(kBase + "[auth]\ncache_ttl = \"soon\"\n", "postern.toml", dir.path());
  EXPECT_FALSE(bad.config);
  EXPECT_THAT(all_problems(bad), HasSubstr("\"soon\" is not a duration"));
}

TEST(AuthCacheConfig, LintWarnsThatDovecotCachesItself) {
  TempDir dir;
  auto r = load_string(kBase +
                           "[auth]\nbackend = \"dovecot\"\n"
                           "dovecot_auth_socket = \"run/auth-client\"\ncache_ttl = \"5m\"\n",
                       "postern.toml", dir.path());
  ASSERT_TRUE(r.config) << all_problems(r);
  std::string found;
  for (const auto& p : lint(*r.config)) {
    if (p.message.find("cache_ttl") != std::string::npos) {
      found = p.where + ": " + p.message + " | " + p.fix;
      EXPECT_EQ(p.severity, Problem::Severity::warning);
    }
  }
  EXPECT_THAT(found, HasSubstr("postern.toml:11: auth.cache_ttl has no effect"));
  EXPECT_THAT(found, HasSubstr("auth_cache_size"));
}

}  // namespace
}  // namespace postern::config
