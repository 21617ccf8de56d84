// Loading: types, ranges, required keys, defaults, and that every error
// carries file:line and a fix, all of them at once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "tools/temp_dir.hpp"

namespace postern::config {
namespace {

using ::testing::HasSubstr;

constexpr const char* kListeners = R"(
[[listener]]
address = "0.0.0.0:25"
role = "relay"
tls = "starttls"

[[listener]]
address = "[::]:587"
role = "submission"
tls = "starttls-required"
)";

LoadResult load(const std::string& text) {
  return load_string(text, "postern.toml", "/srv/conf");
}

std::string dump(const LoadResult& r) {
  std::string out;
  for (const auto& p : r.problems) out += p.where + ": " + p.message + " | fix: " + p.fix + "\n";
  return out;
}

// The one error at `where` whose message contains `text`.
const Problem* find(const LoadResult& r, const std::string& where, const std::string& text) {
  for (const auto& p : r.problems) {
    if (p.where == where && p.message.find(text) != std::string::npos) return &p;
  }
  return nullptr;
}

// The fix of that problem, or a marker that fails any HasSubstr check.
std::string fix_of(const LoadResult& r, const std::string& where, const std::string& text) {
  const Problem* p = find(r, where, text);
  return p ? p->fix : "<no such problem>";
}

#define EXPECT_PROBLEM(result, where, text)                                                    \
  do {                                                                                         \
    const Problem* p_ = find(result, where, text);                                             \
    EXPECT_NE(p_, nullptr) << "expected " << where << ": ..." << text << "\n" << dump(result); \
    if (p_) {                                                                                  \
      EXPECT_FALSE(p_->fix.empty());                                                           \
    }                                                                                          \
  } while (0)

TEST(Load, MinimalConfigWithDefaults) {
  auto r = load(std::string(R"(hostname = "Mail.Example.com."
data_dir = "/var/lib/postern"
local_domains = ["Example.com", "example.com", "example.org"]
)") + kListeners);
  ASSERT_TRUE(r.config) << dump(r);
  EXPECT_TRUE(r.problems.empty()) << dump(r);
  const Config& c = *r.config;
  EXPECT_FALSE(c.embedded);
  EXPECT_EQ(c.hostname, "mail.example.com");
  EXPECT_EQ(c.data_dir, "/var/lib/postern");
  EXPECT_EQ(c.local_domains, (std::vector<std::string>{"example.com", "example.org"}));
  EXPECT_TRUE(c.relay_networks.empty());
  EXPECT_EQ(c.tls.cert, "/var/lib/postern/tls/cert.pem");
  EXPECT_EQ(c.tls.key, "/var/lib/postern/tls/key.pem");
  EXPECT_EQ(c.auth.users_file, "/var/lib/postern/users");
  EXPECT_EQ(c.spool_dir(), "/var/lib/postern/spool");
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].host, "0.0.0.0");
  EXPECT_EQ(c.listeners[0].port, 25);
  EXPECT_EQ(c.listeners[0].role, Role::relay);
  EXPECT_EQ(c.listeners[0].tls, TlsMode::starttls);
  EXPECT_EQ(c.listeners[0].line, 6);
  EXPECT_EQ(c.listeners[1].host, "::");
  EXPECT_EQ(c.listeners[1].port, 587);
  EXPECT_EQ(c.listeners[1].tls, TlsMode::starttls_required);
  EXPECT_FALSE(c.listeners[1].insecure);
  const Limits defaults;
  EXPECT_EQ(c.limits.max_message_size, defaults.max_message_size);
  EXPECT_EQ(c.limits.max_recipients, 100u);
  EXPECT_EQ(c.limits.idle_timeout, std::chrono::seconds(300));
  EXPECT_EQ(c.limits.max_sessions, 10000u);
  EXPECT_EQ(c.limits.max_sessions_per_ip, 50u);
  EXPECT_EQ(c.limits.max_errors, 10u);
  EXPECT_EQ(c.delivery.remote_port, 25);
  EXPECT_EQ(c.delivery.resolver, "");
  EXPECT_EQ(c.log.target, "stderr");
  EXPECT_FALSE(c.unsafe_ack_before_fsync);
  EXPECT_EQ(c.where("hostname"), "postern.toml:1");
  EXPECT_EQ(c.where("tls.cert"), "postern.toml");
}

TEST(Load, EveryKeySet) {
  auto r = load(std::string(R"(hostname = "mx.example.net"
data_dir = "data"
local_domains = ["example.net"]
relay_networks = ["127.0.0.0/8", "::1", "192.168.0.0/16"]
[tls]
cert = "certs/full.pem"
key = "/etc/ssl/k.pem"
[auth]
users_file = "../users"
[limits]
max_message_size = 1048576
max_recipients = 7
idle_timeout = "2m"
max_sessions = 200
max_sessions_per_ip = 3
max_errors = 4
[delivery]
resolver = "127.0.0.1:5353"
remote_port = 2526
smarthost = "smtp.provider.example:587"
[log]
target = "syslog"
[spool]
unsafe_ack_before_fsync = true
)") + kListeners);
  ASSERT_TRUE(r.config) << dump(r);
  const Config& c = *r.config;
  // Relative paths resolve against the configuration file's directory.
  EXPECT_EQ(c.data_dir, "/srv/conf/data");
  EXPECT_EQ(c.tls.cert, "/srv/conf/certs/full.pem");
  EXPECT_EQ(c.tls.key, "/etc/ssl/k.pem");
  EXPECT_EQ(c.auth.users_file, "/srv/users");
  ASSERT_EQ(c.relay_networks.size(), 3u);
  EXPECT_TRUE(c.relay_networks[1].contains("::1"));
  EXPECT_EQ(c.where("relay_networks[2]"), "postern.toml:4");
  EXPECT_EQ(c.limits.max_message_size, 1048576u);
  EXPECT_EQ(c.limits.max_recipients, 7u);
  EXPECT_EQ(c.limits.idle_timeout, std::chrono::seconds(120));
  EXPECT_EQ(c.limits.max_sessions, 200u);
  EXPECT_EQ(c.limits.max_sessions_per_ip, 3u);
  EXPECT_EQ(c.limits.max_errors, 4u);
  EXPECT_EQ(c.delivery.resolver, "127.0.0.1:5353");
  EXPECT_EQ(c.delivery.remote_port, 2526);
  EXPECT_EQ(c.delivery.smarthost, "smtp.provider.example:587");
  EXPECT_EQ(c.log.target, "syslog");
  EXPECT_TRUE(c.unsafe_ack_before_fsync);
  EXPECT_EQ(c.where("spool.unsafe_ack_before_fsync"), "postern.toml:24");
}

TEST(Load, IdleTimeoutAsPlainInteger) {
  auto r = load(std::string("data_dir = \"/d\"\n[limits]\nidle_timeout = 42\n") + kListeners);
  ASSERT_TRUE(r.config) << dump(r);
  EXPECT_EQ(r.config->limits.idle_timeout, std::chrono::seconds(42));
}

TEST(Load, MissingHostnameUsesTheMachineName) {
  auto r = load(std::string("data_dir = \"/d\"\n") + kListeners);
  ASSERT_TRUE(r.config) << dump(r);
  EXPECT_TRUE(r.config->hostname_from_system);
  EXPECT_FALSE(r.config->hostname.empty());
}

TEST(Load, SyntaxErrorHasLineAndColumn) {
  auto r = load("hostname = \"a.example\"\ndata_dir = /var/lib\n");
  EXPECT_FALSE(r.config);
  ASSERT_EQ(r.problems.size(), 1u) << dump(r);
  EXPECT_THAT(r.problems[0].where, ::testing::StartsWith("postern.toml:2:"));
  EXPECT_THAT(r.problems[0].message, HasSubstr("TOML syntax error"));
  EXPECT_THAT(r.problems[0].fix, HasSubstr("line 2, column"));
}

TEST(Load, UnknownKeysSuggestTheNearest) {
  auto r = load(std::string(R"(hostnmae = "a.example"
data_dir = "/d"
cert = "x.pem"
frobnicate = 1
[limits]
max_recipient = 5
[tls]
crt = "c.pem"
)") + kListeners +
                "inseccure = true\ncert = \"x\"\n");
  EXPECT_FALSE(r.config);
  EXPECT_PROBLEM(r, "postern.toml:1", "unknown key \"hostnmae\"");
  EXPECT_THAT(fix_of(r, "postern.toml:1", "hostnmae"), HasSubstr("\"hostname\""));
  EXPECT_THAT(fix_of(r, "postern.toml:3", "\"cert\""), HasSubstr("[tls]"));
  EXPECT_THAT(fix_of(r, "postern.toml:4", "frobnicate"), HasSubstr("known keys"));
  EXPECT_THAT(fix_of(r, "postern.toml:6", "limits.max_recipient"), HasSubstr("\"max_recipients\""));
  EXPECT_THAT(fix_of(r, "postern.toml:8", "tls.crt"), HasSubstr("\"cert\""));
  EXPECT_THAT(fix_of(r, "postern.toml:19", "listener.inseccure"), HasSubstr("\"insecure\""));
  EXPECT_THAT(fix_of(r, "postern.toml:20", "listener.cert"), HasSubstr("[tls]"));
}

TEST(Load, WrongTypes) {
  auto r = load(R"(hostname = 5
data_dir = ["/d"]
local_domains = "example.com"
relay_networks = ["127.0.0.0/8", 10]
[limits]
max_recipients = "100"
idle_timeout = 3.5
[spool]
unsafe_ack_before_fsync = "yes"
[[listener]]
address = 25
role = "relay"
tls = "none"
insecure = "true"
)");
  EXPECT_FALSE(r.config);
  EXPECT_PROBLEM(r, "postern.toml:1", "hostname must be a string, found an integer");
  EXPECT_PROBLEM(r, "postern.toml:2", "data_dir must be a string, found an array");
  EXPECT_PROBLEM(r, "postern.toml:3", "local_domains must be an array of strings");
  EXPECT_PROBLEM(r, "postern.toml:4", "relay_networks must contain only strings");
  EXPECT_PROBLEM(r, "postern.toml:6", "limits.max_recipients must be an integer");
  EXPECT_PROBLEM(r, "postern.toml:7", "limits.idle_timeout must be a duration");
  EXPECT_PROBLEM(r, "postern.toml:9", "must be true or false, found a string");
  EXPECT_PROBLEM(r, "postern.toml:11", "listener address must be a string");
  EXPECT_PROBLEM(r, "postern.toml:14", "insecure must be true or false");
}

TEST(Load, OutOfRangeValues) {
  auto r = load(std::string(R"(data_dir = "/d"
[limits]
max_message_size = 0
max_recipients = -1
idle_timeout = "0s"
max_sessions = 5
max_sessions_per_ip = 6
max_errors = 100000
[delivery]
remote_port = 70000
)") + kListeners);
  EXPECT_FALSE(r.config);
  EXPECT_PROBLEM(r, "postern.toml:3", "limits.max_message_size = 0 is out of range");
  EXPECT_PROBLEM(r, "postern.toml:4", "limits.max_recipients = -1 is out of range");
  EXPECT_PROBLEM(r, "postern.toml:5", "idle_timeout is out of range");
  EXPECT_PROBLEM(r, "postern.toml:7", "larger than limits.max_sessions");
  EXPECT_PROBLEM(r, "postern.toml:8", "max_errors = 100000 is out of range");
  EXPECT_PROBLEM(r, "postern.toml:10", "remote_port = 70000 is out of range");
  EXPECT_THAT(fix_of(r, "postern.toml:10", "remote_port"), HasSubstr("from 1 to 65535"));
}

TEST(Load, BadDurationText) {
  auto r =
      load(std::string("data_dir = \"/d\"\n[limits]\nidle_timeout = \"5 minutes\"\n") + kListeners);
  EXPECT_FALSE(r.config);
  EXPECT_PROBLEM(r, "postern.toml:3", "\"5 minutes\" is not a duration");
}

TEST(Load, ListenerErrors) {
  auto r = load(R"(data_dir = "/d"
[[listener]]
address = "0.0.0.0:0"
role = "relay"
tls = "starttls"
[[listener]]
address = "localhost:25"
role = "relay"
tls = "starttls"
[[listener]]
address = "0.0.0.0:587"
role = "submision"
tls = "required"
[[listener]]
address = "::1:25"
role = "relay"
tls = "none"
[[listener]]
role = "relay"
tls = "none"
[[listener]]
address = "127.0.0.1:465"
)");
  EXPECT_FALSE(r.config);
  EXPECT_PROBLEM(r, "postern.toml:3", "port must be a number from 1 to 65535");
  EXPECT_PROBLEM(r, "postern.toml:7", "\"localhost\" is not an IP address");
  EXPECT_PROBLEM(r, "postern.toml:12", "unknown listener role \"submision\"");
  EXPECT_THAT(fix_of(r, "postern.toml:12", "role"), HasSubstr("\"relay\""));
  EXPECT_PROBLEM(r, "postern.toml:13", "unknown listener tls mode \"required\"");
  EXPECT_THAT(fix_of(r, "postern.toml:13", "tls mode"), HasSubstr("\"starttls-required\""));
  EXPECT_PROBLEM(r, "postern.toml:15", "must be written in brackets");
  EXPECT_PROBLEM(r, "postern.toml:18", "listener has no address");
  EXPECT_PROBLEM(r, "postern.toml:22", "has no role");
  EXPECT_PROBLEM(r, "postern.toml:22", "has no tls mode");
  EXPECT_THAT(fix_of(r, "postern.toml:22", "no tls mode"), HasSubstr("RFC 8314"));
}

TEST(Load, DuplicateListenersAfterNormalisation) {
  auto r = load(R"(data_dir = "/d"
[[listener]]
address = "[::]:25"
role = "relay"
tls = "starttls"
[[listener]]
address = "[0:0::0]:25"
role = "relay"
tls = "none"
)");
  EXPECT_FALSE(r.config);
  EXPECT_PROBLEM(r, "postern.toml:7", "duplicates the listener at line 3");
}

TEST(Load, ListenerAsPlainTableAndNoListeners) {
  auto r = load("data_dir = \"/d\"\n[listener]\naddress = \"0.0.0.0:25\"\n");
  EXPECT_FALSE(r.config);
  EXPECT_PROBLEM(r, "postern.toml:2", "listener must be an array of tables");
  auto none = load("data_dir = \"/d\"\n");
  EXPECT_FALSE(none.config);
  EXPECT_PROBLEM(none, "postern.toml", "no [[listener]] is configured");
}

TEST(Load, MissingDataDirAndBadNames) {
  auto r = load(std::string(R"(hostname = "mail example"
local_domains = ["user@example.com", "ok.example"]
relay_networks = ["10.0.0.0/33", "lan"]
[log]
target = "file"
[delivery]
resolver = "dns.google:53"
smarthost = "relay"
)") + kListeners);
  EXPECT_FALSE(r.config);
  EXPECT_PROBLEM(r, "postern.toml", "data_dir is not set");
  EXPECT_PROBLEM(r, "postern.toml:1", "is not a valid host name");
  EXPECT_PROBLEM(r, "postern.toml:2", "\"user@example.com\" is not a domain name");
  EXPECT_PROBLEM(r, "postern.toml:3", "\"10.0.0.0/33\" is not a network");
  EXPECT_PROBLEM(r, "postern.toml:3", "\"lan\" is not a network");
  EXPECT_PROBLEM(r, "postern.toml:5", "unknown log target \"file\"");
  EXPECT_PROBLEM(r, "postern.toml:7", "\"dns.google\" is not an IP address");
  EXPECT_PROBLEM(r, "postern.toml:8", "delivery.smarthost \"relay\" cannot be used");
}

TEST(Load, AllErrorsAtOnce) {
  auto r = load(R"(hostnme = "x.example"
[limits]
max_errors = 0
[[listener]]
address = "0.0.0.0:25"
role = "mta"
tls = "starttls"
)");
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.problems.size(), 4u) << dump(r);  // typo, data_dir, max_errors, role
}

TEST(Load, FileErrorsAndRelativePaths) {
  postern::testing::TempDir dir;
  auto missing = load_file(dir / "nope.toml");
  EXPECT_TRUE(missing.unreadable);
  EXPECT_FALSE(missing.config);
  ASSERT_EQ(missing.problems.size(), 1u);
  EXPECT_THAT(missing.problems[0].message, HasSubstr("cannot read"));
  EXPECT_TRUE(load_file(dir.path()).unreadable);

  const auto file =
      dir.write("etc/postern.toml", std::string("data_dir = \"data\"\n") + kListeners);
  auto r = load_file(file);
  ASSERT_TRUE(r.config) << dump(r);
  EXPECT_EQ(r.config->data_dir, dir / "etc" / "data");
  EXPECT_EQ(r.config->source, file);
  EXPECT_EQ(r.config->where("data_dir"), file.string() + ":1");
}

TEST(EmbeddedDefault, MatchesTheSpec) {
  const Config c = embedded_default("/home/op");
  EXPECT_TRUE(c.embedded);
  EXPECT_TRUE(c.source.empty());
  EXPECT_EQ(c.hostname, "localhost");
  EXPECT_EQ(c.data_dir, "/home/op/postern-data");
  EXPECT_EQ(c.local_domains, std::vector<std::string>{"localhost"});
  EXPECT_TRUE(c.relay_networks.empty());
  EXPECT_EQ(c.tls.cert, "/home/op/postern-data/tls/cert.pem");
  EXPECT_EQ(c.tls.key, "/home/op/postern-data/tls/key.pem");
  EXPECT_EQ(c.auth.users_file, "/home/op/postern-data/users");
  ASSERT_EQ(c.listeners.size(), 4u);
  const struct {
    const char* address;
    std::uint16_t port;
    Role role;
    TlsMode tls;
  } want[] = {{"127.0.0.1:2025", 2025, Role::relay, TlsMode::starttls},
              {"127.0.0.1:2587", 2587, Role::submission, TlsMode::starttls_required},
              {"127.0.0.1:2465", 2465, Role::submission, TlsMode::implicit},
              {"127.0.0.1:2525", 2525, Role::submission, TlsMode::starttls_required}};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(c.listeners[i].address, want[i].address);
    EXPECT_EQ(c.listeners[i].host, "127.0.0.1");
    EXPECT_EQ(c.listeners[i].port, want[i].port);
    EXPECT_EQ(c.listeners[i].role, want[i].role);
    EXPECT_EQ(c.listeners[i].tls, want[i].tls);
    EXPECT_FALSE(c.listeners[i].insecure);
  }
  EXPECT_EQ(c.limits.idle_timeout, std::chrono::seconds(300));
  EXPECT_THAT(c.where("hostname"), ::testing::StartsWith("<embedded default>:"));
}

TEST(EmbeddedDefault, TextLoadsAsAFile) {
  // What --print-default prints must itself be a valid configuration.
  auto r = load_string(embedded_default_toml(), "default.toml", "/x");
  ASSERT_TRUE(r.config) << dump(r);
  EXPECT_TRUE(r.problems.empty()) << dump(r);
  EXPECT_EQ(r.config->data_dir, "/x/postern-data");
}

}  // namespace
}  // namespace postern::config
