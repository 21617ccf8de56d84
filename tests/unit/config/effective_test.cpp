// `postern config`: the effective settings as TOML (postconf), defaults
// marked, -n leaving them out, secrets never printed; and the certificate a
// saved starting configuration gets on its first start.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config/effective.hpp"
#include "config/generated_certificate.hpp"
#include "tools/temp_dir.hpp"

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
  EXPECT_THAT(out, HasSubstr("[[listener]]\naddress = \"127.0.0.1:2525\""));
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
