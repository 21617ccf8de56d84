// [delivery]: every key read with its type and range, file:line on every
// error, and the fixes that name what to write instead.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config/duration.hpp"
#include "unit/config/base_config.hpp"

namespace postern::config {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

using testing::kBase;

// Line 10 of the text is the first line after "[delivery]".
LoadResult load_delivery(const std::string& body) {
  return testing::load_section("delivery", body);
}

std::string dump(const LoadResult& r) {
  std::string out;
  for (const auto& p : r.problems) out += p.where + ": " + p.message + " | fix: " + p.fix + "\n";
  return out;
}

// The fix of the one problem at `where` whose message contains `text`; a
// missing problem fails the test and yields a marker no fix contains.
std::string problem(const LoadResult& r, const std::string& where, const std::string& text) {
  for (const auto& p : r.problems) {
    if (p.where == where && p.message.find(text) != std::string::npos) {
      return p.fix.empty() ? "<problem without a fix>" : p.fix;
    }
  }
  ADD_FAILURE() << "no problem at " << where << " containing \"" << text << "\"\n" << dump(r);
  return "<no such problem>";
}

const std::string kLine10 = "/srv/conf/postern.toml:10";
const std::string kLine11 = "/srv/conf/postern.toml:11";

TEST(DeliveryLoad, DefaultsWithoutTheTable) {
  auto r = load_string(kBase, "postern.toml", "/srv/conf");
  ASSERT_TRUE(r.config) << dump(r);
  const DeliveryConfig& d = r.config->delivery;
  EXPECT_EQ(d.resolver, "");
  EXPECT_EQ(d.remote_port, 25);
  EXPECT_EQ(d.tls, TlsPolicy::opportunistic);
  EXPECT_TRUE(d.tls_fallback_plaintext);
  EXPECT_TRUE(d.tls_policy.empty());
  EXPECT_EQ(d.smarthost, "");
  EXPECT_EQ(d.smarthost_tls, TlsMode::starttls);
  EXPECT_TRUE(d.fallback_ports.empty());
  EXPECT_EQ(d.retry_initial, seconds(60));
  EXPECT_EQ(d.retry_max, seconds(3600));
  EXPECT_EQ(d.max_queue_lifetime, seconds(5 * 86400));
  EXPECT_EQ(d.connect_timeout, seconds(30));
  EXPECT_EQ(d.command_timeout, seconds(300));
  EXPECT_EQ(d.max_connections, 20u);
  EXPECT_EQ(d.max_connections_per_destination, 4u);
}

TEST(DeliveryLoad, EveryKey) {
  auto r = load_delivery(R"(resolver = "127.0.0.1:5353"
remote_port = 2525
tls = "required"
tls_fallback_plaintext = false
smarthost = "smtp.provider.example:587"
smarthost_tls = "implicit"
smarthost_user = "relay@example.com"
smarthost_password = "inline"
smarthost_password_file = "secrets/smarthost"
smarthost_ca_file = "/etc/ssl/provider.pem"
fallback_ports = [2525, 465]
retry_initial = "30s"
retry_max = "2h"
max_queue_lifetime = "3d"
connect_timeout = 10
command_timeout = "10m"
max_connections = 50
max_connections_per_destination = 5

[delivery.tls_policy]
"Example.ORG" = "required"
"bank.example." = "opportunistic"
)");
  ASSERT_TRUE(r.config) << dump(r);
  const DeliveryConfig& d = r.config->delivery;
  EXPECT_EQ(d.resolver, "127.0.0.1:5353");
  EXPECT_EQ(d.remote_port, 2525);
  EXPECT_EQ(d.tls, TlsPolicy::required);
  EXPECT_FALSE(d.tls_fallback_plaintext);
  EXPECT_EQ(d.smarthost, "smtp.provider.example:587");
  EXPECT_EQ(d.smarthost_tls, TlsMode::implicit);
  EXPECT_EQ(d.smarthost_user, "relay@example.com");
  EXPECT_EQ(d.smarthost_password, "inline");
  // Relative to the directory of the configuration file.
  EXPECT_EQ(d.smarthost_password_file, "/srv/conf/secrets/smarthost");
  EXPECT_EQ(d.smarthost_ca_file, "/etc/ssl/provider.pem");
  EXPECT_EQ(d.fallback_ports, (std::vector<std::uint16_t>{2525, 465}));
  EXPECT_EQ(d.retry_initial, seconds(30));
  EXPECT_EQ(d.retry_max, seconds(7200));
  EXPECT_EQ(d.max_queue_lifetime, seconds(3 * 86400));
  EXPECT_EQ(d.connect_timeout, seconds(10));
  EXPECT_EQ(d.command_timeout, seconds(600));
  EXPECT_EQ(d.max_connections, 50u);
  EXPECT_EQ(d.max_connections_per_destination, 5u);
  EXPECT_EQ(d.tls_policy,
            (std::map<std::string, TlsPolicy>{{"bank.example", TlsPolicy::opportunistic},
                                              {"example.org", TlsPolicy::required}}));
  // Lines are remembered for the lints.
  EXPECT_EQ(r.config->where("delivery.smarthost_password"), "/srv/conf/postern.toml:17");
  EXPECT_EQ(r.config->where("delivery.tls_policy.example.org"), "/srv/conf/postern.toml:30");
}

TEST(DeliveryLoad, SmarthostMayBeAnAddress) {
  auto r = load_delivery("smarthost = \"[::1]:2525\"\nsmarthost_tls = \"none\"\n");
  ASSERT_TRUE(r.config) << dump(r);
  EXPECT_EQ(r.config->delivery.smarthost, "[::1]:2525");
  EXPECT_EQ(r.config->delivery.smarthost_tls, TlsMode::none);
}

TEST(DeliveryLoad, BadSmarthost) {
  auto r = load_delivery("smarthost = \"smtp.provider.example\"\n");
  EXPECT_FALSE(r.config);
  EXPECT_THAT(problem(r, kLine10, "delivery.smarthost \"smtp.provider.example\" cannot be used"),
              HasSubstr("host:port"));
  r = load_delivery("smarthost = \"bad host!:25\"\n");
  EXPECT_THAT(problem(r, kLine10, "is not a host name"), HasSubstr("host:port"));
}

TEST(DeliveryLoad, ChoicesNameTheAllowedWordsAndTheNearest) {
  auto r = load_delivery("tls = \"requried\"\nsmarthost_tls = \"STARTTLS-required\"\n");
  EXPECT_FALSE(r.config);
  EXPECT_THAT(problem(r, kLine10, "unknown delivery.tls \"requried\""),
              HasSubstr("did you mean \"required\"?"));
  EXPECT_THAT(problem(r, kLine11, "unknown delivery.smarthost_tls"),
              HasSubstr("\"starttls\", \"implicit\", \"none\""));
  r = load_delivery("smarthost_tls = 465\n");
  EXPECT_THAT(problem(r, kLine10, "delivery.smarthost_tls must be a string, found an integer"),
              HasSubstr("smarthost_tls = \"starttls\""));
}

TEST(DeliveryLoad, TlsFallbackMustBeABoolean) {
  auto r = load_delivery("tls_fallback_plaintext = \"yes\"\n");
  EXPECT_FALSE(r.config);
  EXPECT_THAT(problem(r, kLine10, "must be true or false"), HasSubstr("without quotes"));
}

TEST(DeliveryLoad, TlsPolicyEntries) {
  auto r = load_delivery(R"([delivery.tls_policy]
"example.org" = "mandatory"
"not a domain" = "required"
"example.net" = true
)");
  EXPECT_FALSE(r.config);
  EXPECT_THAT(problem(r, kLine11,
                      "\"example.org\" must be \"required\" or \"opportunistic\", "
                      "found \"mandatory\""),
              HasSubstr("\"example.org\" = \"required\""));
  EXPECT_THAT(problem(r, "/srv/conf/postern.toml:12", "\"not a domain\" is not a domain name"),
              HasSubstr("one recipient domain per line"));
  EXPECT_THAT(problem(r, "/srv/conf/postern.toml:13", "found a boolean"),
              HasSubstr("\"example.net\" = \"opportunistic\""));

  r = load_delivery("tls_policy = \"required\"\n");
  EXPECT_THAT(problem(r, kLine10, "delivery.tls_policy must be a table, found a string"),
              HasSubstr("[delivery.tls_policy]"));
}

TEST(DeliveryLoad, FallbackPorts) {
  auto r = load_delivery("fallback_ports = [2525, 0, \"465\", 70000, 2525]\n");
  EXPECT_FALSE(r.config);
  EXPECT_THAT(problem(r, kLine10, "entry 0 is not a port"), HasSubstr("fallback_ports = [2525"));
  EXPECT_THAT(problem(r, kLine10, "entry a string is not a port"), HasSubstr("without quotes"));
  EXPECT_THAT(problem(r, kLine10, "entry 70000 is not a port"), HasSubstr("1 to 65535"));
  EXPECT_THAT(problem(r, kLine10, "lists port 2525 twice"), HasSubstr("each port once"));
  r = load_delivery("fallback_ports = 2525\n");
  EXPECT_THAT(problem(r, kLine10, "must be an array of ports, found an integer"),
              HasSubstr("[2525, 465]"));
  r = load_delivery("fallback_ports = []\n");
  ASSERT_TRUE(r.config) << dump(r);
  EXPECT_TRUE(r.config->delivery.fallback_ports.empty());
}

TEST(DeliveryLoad, Durations) {
  auto r = load_delivery(R"(retry_initial = "soon"
retry_max = "0s"
max_queue_lifetime = "31d"
connect_timeout = true
command_timeout = -5
)");
  EXPECT_FALSE(r.config);
  EXPECT_THAT(problem(r, kLine10, "delivery.retry_initial \"soon\" is not a duration"),
              HasSubstr("suffix s, m, h or d"));
  EXPECT_THAT(problem(r, kLine11, "delivery.retry_max is out of range"),
              HasSubstr("from 1s to 1d"));
  EXPECT_THAT(problem(r, "/srv/conf/postern.toml:12", "max_queue_lifetime is out of range"),
              HasSubstr("from 1s to 30d, e.g. max_queue_lifetime = \"5d\""));
  EXPECT_THAT(problem(r, "/srv/conf/postern.toml:13", "must be a duration, found a boolean"),
              HasSubstr("connect_timeout = \"30s\""));
  EXPECT_THAT(problem(r, "/srv/conf/postern.toml:14", "command_timeout is out of range"),
              HasSubstr("1h"));
}

TEST(DeliveryLoad, ConnectionLimits) {
  auto r = load_delivery("max_connections = 2\nmax_connections_per_destination = 3\n");
  EXPECT_FALSE(r.config);
  EXPECT_THAT(problem(r, kLine11, "max_connections_per_destination (3) is larger"),
              HasSubstr("at most max_connections"));
  r = load_delivery("max_connections = 0\n");
  EXPECT_THAT(problem(r, kLine10, "delivery.max_connections = 0 is out of range"),
              HasSubstr("from 1 to 100000"));
}

TEST(DeliveryLoad, EmptyStringsAreErrors) {
  auto r = load_delivery(
      "smarthost_user = \"\"\nsmarthost_password_file = \"\"\nsmarthost_ca_file = \"\"\n");
  EXPECT_FALSE(r.config);
  EXPECT_THAT(problem(r, kLine10, "smarthost_user is empty"), HasSubstr("without AUTH"));
  EXPECT_THAT(problem(r, kLine11, "smarthost_password_file is empty"), HasSubstr("first line"));
  EXPECT_THAT(problem(r, "/srv/conf/postern.toml:12", "smarthost_ca_file is empty"),
              HasSubstr("system store"));
}

TEST(DeliveryLoad, TyposGetTheNearestKey) {
  auto r = load_delivery("smarthost_pasword = \"x\"\nretry_intial = \"1m\"\n");
  EXPECT_FALSE(r.config);
  EXPECT_THAT(problem(r, kLine10, "unknown key \"delivery.smarthost_pasword\""),
              HasSubstr("did you mean \"smarthost_password\"?"));
  EXPECT_THAT(problem(r, kLine11, "unknown key \"delivery.retry_intial\""),
              HasSubstr("did you mean \"retry_initial\"?"));
}

TEST(DeliveryLoad, AllErrorsAtOnce) {
  auto r = load_delivery("tls = \"x\"\nremote_port = 0\nretry_max = \"y\"\n");
  EXPECT_EQ(r.problems.size(), 3u) << dump(r);
}

TEST(Duration, Days) {
  EXPECT_EQ(parse_duration("5d"), seconds(5 * 86400));
  EXPECT_EQ(parse_duration("1d12h"), seconds(36 * 3600));
  EXPECT_EQ(parse_duration("d"), std::nullopt);
  EXPECT_EQ(parse_duration("5w"), std::nullopt);
}

}  // namespace
}  // namespace postern::config
