// [limits] rate keys, [limits.user."name"] overrides and [state] url
// (SPEC §1.10): what loads, what is refused with file:line, what check warns.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config/redis_url.hpp"

namespace postern::config {
namespace {

using namespace std::chrono_literals;

const std::string kBase = R"(hostname = "mx.example.com"
data_dir = "/tmp/postern-rate-test"
local_domains = ["example.com"]

[[listener]]
address = "127.0.0.1:2525"
role = "relay"
tls = "none"
)";

LoadResult load(const std::string& tables) {
  return load_string(kBase + tables, "/etc/postern/postern.toml");
}

std::string errors_of(const LoadResult& r) {
  std::string out;
  for (const auto& p : r.problems) {
    if (p.severity == Problem::Severity::error) out += p.where + ": " + p.message + "\n";
  }
  return out;
}

std::string warnings_of(const Config& c) {
  std::string out;
  for (const auto& p : lint(c)) {
    if (p.severity == Problem::Severity::warning) out += p.where + ": " + p.message + "\n";
  }
  return out;
}

TEST(RateLimitsConfig, DefaultsAreTheSpecs) {
  const auto r = load("");
  ASSERT_TRUE(r.config) << errors_of(r);
  const auto& l = r.config->rate_limits;
  EXPECT_EQ(l.defaults.messages, (std::vector<limits::Rate>{{30, 60s}, {500, 3600s}}));
  EXPECT_EQ(l.defaults.recipients, (std::vector<limits::Rate>{{2000, 86400s}}));
  EXPECT_EQ(l.auth_failures_per_ip, (limits::Rate{10, 900s}));
  EXPECT_EQ(l.auth_failures_per_user, (limits::Rate{10, 900s}));
  EXPECT_TRUE(r.config->state.url.empty());
}

TEST(RateLimitsConfig, KeysAndOverrides) {
  const auto r = load(R"(
[limits]
user_messages = ["5/1m"]
user_recipients = []
auth_failures_per_ip = "20/1h"
auth_failures_per_user = "5/10m"

[limits.user."Bob@Example.COM"]
user_messages = ["50/1m", "1000/1d"]

[state]
url = "redis://127.0.0.1:6380/2"
)");
  ASSERT_TRUE(r.config) << errors_of(r);
  const auto& l = r.config->rate_limits;
  EXPECT_EQ(l.defaults.messages, (std::vector<limits::Rate>{{5, 60s}}));
  EXPECT_TRUE(l.defaults.recipients.empty());
  EXPECT_EQ(l.auth_failures_per_ip, (limits::Rate{20, 3600s}));
  EXPECT_EQ(l.auth_failures_per_user, (limits::Rate{5, 600s}));
  const auto bob = l.for_user("bob@example.com");
  EXPECT_EQ(bob.messages, (std::vector<limits::Rate>{{50, 60s}, {1000, 86400s}}));
  EXPECT_TRUE(bob.recipients.empty());  // the default, which is none here
  EXPECT_EQ(r.config->state.url, "redis://127.0.0.1:6380/2");
}

struct Bad {
  const char* tables;
  const char* says;
};

TEST(RateLimitsConfig, BadValuesNameFileLineAndWhat) {
  const Bad table[] = {
      {"[limits]\nuser_messages = [\"30\"]\n", "postern.toml:10: limits.user_messages \"30\""},
      {"[limits]\nuser_messages = \"30/1m\"\n", "must be a list of rates"},
      {"[limits]\nuser_recipients = [\"0/1d\"]\n", "count of 0"},
      {"[limits]\nauth_failures_per_ip = \"10/15x\"\n", "needs a unit"},
      {"[limits]\nauth_failures_per_user = 10\n", "must be a string"},
      {"[limits.user.\"bob\"]\nuser_messages = [\"1/1m\"]\n", "is not an address"},
      {"[limits.user.\"bob@example.com\"]\nuser_messagez = [\"1/1m\"]\n", "user_messagez"},
      {"[state]\nurl = \"http://127.0.0.1\"\n", "must start with redis://"},
      {"[state]\nurl = \"redis://127.0.0.1:99999/0\"\n", "port \"99999\""},
  };
  for (const auto& b : table) {
    const auto r = load(b.tables);
    EXPECT_FALSE(r.config) << b.tables;
    EXPECT_NE(errors_of(r).find(b.says), std::string::npos) << b.tables << "\n" << errors_of(r);
  }
}

TEST(RateLimitsConfig, LintsLimitsThatMakeNoSense) {
  const auto r = load(R"(
[limits]
user_messages = ["600/1m", "500/1h"]
user_recipients = ["10/1m"]
auth_failures_per_ip = "1/15m"
)");
  ASSERT_TRUE(r.config) << errors_of(r);
  const std::string w = warnings_of(*r.config);
  EXPECT_NE(w.find("600/1m allows at least as many as 500/1h"), std::string::npos) << w;
  EXPECT_NE(w.find("user_recipients 10/1m is below user_messages 600/1m"), std::string::npos) << w;
  EXPECT_NE(w.find("auth_failures_per_ip = \"1/15m\""), std::string::npos) << w;
  const auto sane = load("[limits]\nuser_messages = [\"30/1m\", \"500/1h\"]\n");
  ASSERT_TRUE(sane.config);
  EXPECT_EQ(warnings_of(*sane.config).find("limits."), std::string::npos)
      << warnings_of(*sane.config);
}

TEST(RedisUrl, Forms) {
  auto u = parse_redis_url("redis://127.0.0.1:6379/0");
  ASSERT_TRUE(u.url) << u.error;
  EXPECT_EQ(u.url->host, "127.0.0.1");
  EXPECT_EQ(u.url->port, 6379);
  EXPECT_EQ(u.url->db, 0);
  u = parse_redis_url("redis://:s3cret@redis.internal/3");
  ASSERT_TRUE(u.url) << u.error;
  EXPECT_EQ(u.url->host, "redis.internal");
  EXPECT_EQ(u.url->port, 6379);
  EXPECT_EQ(u.url->db, 3);
  EXPECT_EQ(u.url->password, "s3cret");
  EXPECT_EQ(u.url->redacted(), "redis://:***@redis.internal:6379/3");
  u = parse_redis_url("redis://postern:pw@[::1]:6380");
  ASSERT_TRUE(u.url) << u.error;
  EXPECT_EQ(u.url->host, "::1");
  EXPECT_EQ(u.url->user, "postern");
  EXPECT_EQ(u.url->redacted(), "redis://postern:***@[::1]:6380/0");
  for (const char* bad : {"127.0.0.1:6379", "rediss://h", "redis://", "redis://h:0", "redis://h:x",
                          "redis://h/db", "redis://[::1"}) {
    EXPECT_FALSE(parse_redis_url(bad).url) << bad;
  }
}

}  // namespace
}  // namespace postern::config
