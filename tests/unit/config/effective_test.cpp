// `postern config`: the effective settings as TOML (postconf), defaults
// marked, -n leaving them out, secrets never printed; and the certificate a
// saved starting configuration gets on its first start.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config/effective.hpp"
#include "config/generated_certificate.hpp"
#include "config/loader.hpp"
#include "mailauth/dkim/key.hpp"
#include "tools/temp_dir.hpp"

#include <algorithm>
#include <regex>
#include <sstream>

namespace postern::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kFile = R"(hostname = "mail.example.com"
data_dir = "/var/lib/postern"
local_domains = ["example.com"]

[delivery]
smarthost = "smtp.provider.example:587"
smarthost_user = "apikey"
smarthost_password = "s3cret-do-not-print"

[[listener]]
address = "127.0.0.1:2525"
role = "relay"
tls = "none"
)";

Config loaded() {
  auto r = load_string(kFile, "postern.toml", "/etc/postern");
  EXPECT_TRUE(r.config);
  return *r.config;
}

TEST(Effective, EverySettingWithDefaultsMarked) {
  const std::string out = render_effective(loaded());
  EXPECT_THAT(out, HasSubstr("hostname = \"mail.example.com\"\n"));
  EXPECT_THAT(out, HasSubstr("smarthost = \"smtp.provider.example:587\"\n"));
  EXPECT_THAT(out, HasSubstr("max_message_size = 36700160  # default\n"));
  EXPECT_THAT(out, HasSubstr("idle_timeout = \"300s\"  # default\n"));
  EXPECT_THAT(out, HasSubstr("[[listener]]\naddress  = \"127.0.0.1:2525\""));
  EXPECT_THAT(out, HasSubstr("smarthost_password = \"(set; not shown)\""));
  EXPECT_THAT(out, Not(HasSubstr("s3cret")));
}

TEST(Effective, OnlySetIsPostconfN) {
  EffectiveOptions o;
  o.only_set = true;
  const std::string out = render_effective(loaded(), o);
  EXPECT_THAT(out, HasSubstr("local_domains = [\"example.com\"]\n"));
  EXPECT_THAT(out, HasSubstr("[delivery]\nsmarthost = "));
  EXPECT_THAT(out, Not(HasSubstr("# default")));
  EXPECT_THAT(out, Not(HasSubstr("[limits]")));  // nothing set there
  EXPECT_THAT(out, Not(HasSubstr("s3cret")));
}

TEST(Effective, OutputLoadsBackToTheSameSettings) {
  const Config c = loaded();
  const std::string out = render_effective(c);
  auto again = load_string(out, "again.toml", "/etc/postern");
  ASSERT_TRUE(again.config) << out;
  EXPECT_EQ(again.config->hostname, c.hostname);
  EXPECT_EQ(again.config->data_dir, c.data_dir);
  EXPECT_EQ(again.config->delivery.smarthost, c.delivery.smarthost);
  EXPECT_EQ(again.config->limits.idle_timeout, c.limits.idle_timeout);
  EXPECT_EQ(again.config->listeners.size(), c.listeners.size());
}

// A file that sets a key of every section (and, for [[dkim]], a real key),
// so each printed value has something other than its default to show.
class EffectiveFull : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write(
        "ed.pem",
        mailauth::dkim::generate_key(mailauth::dkim::Algorithm::ed25519_sha256, 0).key->to_pem());
    const std::string text = R"(hostname = "mail.example.com"
data_dir = "/var/lib/postern"
local_domains = ["example.com", "example.net"]
relay_networks = ["192.0.2.0/24"]
user = "postern"

[tls]
cert = "/etc/postern/cert.pem"
key = "/etc/postern/key.pem"

[auth]
users_file = "users"
backend = "dovecot"
dovecot_auth_socket = "/run/dovecot/auth-client"

[limits]
max_recipients = 50
idle_timeout = "2m"

[delivery]
resolver = "127.0.0.1:5353"
tls = "required"
smarthost = "smtp.provider.example:587"
smarthost_tls = "implicit"
fallback_ports = [2525, 465]
retry_initial = "30s"
local = "lmtp:unix:/run/dovecot/lmtp"

[delivery.tls_policy]
"bank.example" = "required"

[log]
target = "syslog"

[metrics]
address = "127.0.0.1:9325"

[spool]
unsafe_ack_before_fsync = true

[addresses]
aliases_file = "/etc/postern/aliases"
recipient_delimiter = "+-"
srs_secret_file = "/etc/postern/srs.key"
srs_domain = "example.com"
default_domain = "example.net"
postmaster = "alice@example.com"
abuse = "abuse-desk@example.com"
smarthost_rewrite_from = true

[addresses.smarthost_senders]
"@example.com" = "account@provider.example"

[[listener]]
address = "127.0.0.1:2587"
role = "submission"
tls = "none"
insecure = true

[[dkim]]
domain = "example.com"
selector = "s2026"
key = "ed.pem"
)";
    auto r = load_string(text, (dir_ / "postern.toml").string(), dir_.path());
    for (const auto& p : r.problems) ADD_FAILURE() << p.where << ": " << p.message;
    ASSERT_TRUE(r.config);
    config_ = std::move(*r.config);
  }
  postern::testing::TempDir dir_;
  Config config_;
};

// The lines of one table as printed: "[name]" or "[[name]]" up to the next
// table that is not a subtable of it.
std::string table_text(const std::string& out, std::string_view name) {
  const std::string single = "\n[" + std::string(name) + "]\n";
  const std::string array = "\n[[" + std::string(name) + "]]\n";
  std::size_t at = out.find(single);
  if (at == std::string::npos) at = out.find(array);
  if (at == std::string::npos) return {};
  std::string text;
  std::istringstream lines(out.substr(at + 1));
  std::string line;
  bool first = true;
  while (std::getline(lines, line)) {
    const bool header = line.starts_with("[");
    if (!first && header && !line.starts_with("[" + std::string(name) + ".")) break;
    first = false;
    text += line + "\n";
  }
  return text;
}

// Printed as `key = value`, as `# key is not set`, or as its own subtable.
bool shows_key(const std::string& text, std::string_view section, std::string_view key) {
  const std::string k(key);
  const std::regex shown("(^|\n)(" + k + " *= |# " + k + " is not set|\\[" + std::string(section) +
                         "\\." + k + "\\]\n)");
  return std::regex_search(text, shown);
}

// The guard against a section forgotten by `postern config`: every key
// the loader accepts (the schema in loader.hpp) must be printed, so a new
// key added to the schema without a line in effective.cpp fails here.
TEST_F(EffectiveFull, EveryKeyOfTheSchemaIsPrinted) {
  const std::string out = render_effective(config_);
  const std::string top = out.substr(0, out.find("\n["));
  for (const std::string_view key : kTopKeys) {
    const bool is_table = std::any_of(kSections.begin(), kSections.end(),
                                      [&](const Section& s) { return s.name == key; });
    if (is_table) {
      EXPECT_FALSE(table_text(out, key).empty()) << "no [" << key << "] in:\n" << out;
    } else {
      EXPECT_TRUE(shows_key(top, "", key)) << "top-level " << key << " missing in:\n" << out;
    }
  }
  for (const Section& s : kSections) {
    const std::string text = table_text(out, s.name);
    for (const std::string_view key : s.keys) {
      EXPECT_TRUE(shows_key(text, s.name, key)) << "[" << s.name << "] " << key << " missing in:\n"
                                                << text;
    }
  }
}

// Only the comment lines that say where the output came from and which
// values are defaults differ between a printout and the printout of it.
std::string without_provenance(const std::string& out) {
  std::string text;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("# postern effective") || line.starts_with("# keys marked")) continue;
    if (line.ends_with("  # default")) line.resize(line.size() - 11);
    text += line + "\n";
  }
  return text;
}

void expect_round_trip(const Config& c, const std::filesystem::path& dir) {
  const std::string out = render_effective(c);
  auto again = load_string(out, (dir / "effective.toml").string(), dir);
  for (const auto& p : again.problems) ADD_FAILURE() << p.where << ": " << p.message << "\n" << out;
  ASSERT_TRUE(again.config);
  EXPECT_EQ(without_provenance(render_effective(*again.config)), without_provenance(out));
}

TEST_F(EffectiveFull, PrintedSettingsLoadBackToTheSameSettings) {
  expect_round_trip(config_, dir_.path());
  EXPECT_EQ(config_.dkim.size(), 1u);
  const std::string out = render_effective(config_);
  EXPECT_THAT(
      out, HasSubstr("[[dkim]]\ndomain   = \"example.com\"\nselector = \"s2026\"\nkey      = \"" +
                     (dir_ / "ed.pem").string() + "\"\n"));
  EXPECT_THAT(out, HasSubstr("\n[addresses.smarthost_senders]\n\"@example.com\" = "));
  EXPECT_THAT(out, HasSubstr("backend = \"dovecot\"\n"));
  EXPECT_THAT(out, HasSubstr("local = \"lmtp:unix:/run/dovecot/lmtp\"\n"));
  EXPECT_THAT(out, HasSubstr("user = \"postern\"\n"));
  EXPECT_THAT(out, Not(HasSubstr("PRIVATE KEY")));
}

TEST(Effective, TheEmbeddedDefaultRoundTrips) {
  postern::testing::TempDir dir;
  expect_round_trip(embedded_default(dir.path()), dir.path());
  expect_round_trip(loaded(), dir.path());
}

TEST(GeneratedCertificate, OnlyUnderDataDirAndOnlyWhenBothAreMissing) {
  postern::testing::TempDir dir;
  Config c = embedded_default(dir.path());
  c.embedded = false;
  EXPECT_TRUE(certificate_generated_on_start(c));  // data_dir/tls/cert.pem
  Config elsewhere = c;
  elsewhere.tls.cert = "/etc/letsencrypt/live/x/fullchain.pem";
  EXPECT_FALSE(certificate_generated_on_start(elsewhere));
  Config sibling = c;  // a prefix of the name is not "inside"
  sibling.tls.cert = c.data_dir.string() + "-other/cert.pem";
  EXPECT_FALSE(certificate_generated_on_start(sibling));
  std::filesystem::create_directories(c.tls.cert.parent_path());
  dir.write("postern-data/tls/cert.pem", "x");
  EXPECT_FALSE(certificate_generated_on_start(c));  // never over an existing file
}

}  // namespace
}  // namespace postern::config
