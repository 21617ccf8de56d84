// The lints of `postern check`, one rule per test, each checked both where
// it must fire and where it must stay quiet.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "tls/certificate.hpp"
#include "tools/cert_maker.hpp"
#include "tools/temp_dir.hpp"

namespace postern::config {
namespace {

using postern::testing::CertSpec;
using postern::testing::make_certificate;
using postern::testing::TempDir;
using ::testing::HasSubstr;
using Severity = Problem::Severity;

std::string dump(const std::vector<Problem>& ps) {
  std::string out;
  for (const auto& p : ps) {
    out += p.where + ": " + (p.severity == Severity::error ? "error: " : "warning: ") + p.message +
           "\n";
  }
  return out;
}

class LintTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CertSpec spec;
    make_certificate(dir_ / "cert.pem", dir_ / "key.pem", spec);
    dir_.write("users", "");
  }

  // A clean configuration plus `extra` (top-level keys go in `top`).
  std::vector<Problem> lint_text(const std::string& listeners, const std::string& top = "",
                                 const std::string& tables = "") {
    const std::string text =
        "hostname = \"mail.example.com\"\n"
        "data_dir = \"data\"\n"
        "local_domains = [\"example.com\"]\n" +
        top +
        "[tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n"
        "[auth]\nusers_file = \"users\"\n" +
        tables + listeners;
    auto r = load_string(text, "postern.toml", dir_.path());
    EXPECT_TRUE(r.config) << "test configuration does not load";
    if (!r.config) return {};
    config_ = *r.config;
    return lint(*r.config);
  }

  static std::string listener(const std::string& address, const std::string& role,
                              const std::string& tls, bool insecure = false) {
    return "[[listener]]\naddress = \"" + address + "\"\nrole = \"" + role + "\"\ntls = \"" + tls +
           "\"\n" + (insecure ? "insecure = true\n" : "");
  }

  static const Problem* find(const std::vector<Problem>& ps, Severity severity,
                             const std::string& text) {
    for (const auto& p : ps) {
      if (p.severity == severity && p.message.find(text) != std::string::npos) return &p;
    }
    return nullptr;
  }

  TempDir dir_;
  Config config_;
};

const std::string kGood =
    "[[listener]]\naddress = \"0.0.0.0:25\"\nrole = \"relay\"\ntls = "
    "\"starttls\"\n[[listener]]\naddress = \"0.0.0.0:587\"\nrole = "
    "\"submission\"\ntls = \"starttls-required\"\n[[listener]]\naddress = "
    "\"0.0.0.0:465\"\nrole = \"submission\"\ntls = \"implicit\"\n";

TEST_F(LintTest, CleanConfigurationHasNoProblems) {
  const auto ps = lint_text(kGood);
  EXPECT_TRUE(ps.empty()) << dump(ps);
}

TEST_F(LintTest, SubmissionWithoutTlsIsAnError) {
  for (const char* mode : {"none", "starttls"}) {
    const auto ps = lint_text(listener("0.0.0.0:587", "submission", mode));
    const Problem* p =
        find(ps, Severity::error, "credentials would cross the network in plaintext");
    ASSERT_NE(p, nullptr) << mode << "\n" << dump(ps);
    EXPECT_EQ(p->where, "postern.toml:10");  // the listener's address line
    EXPECT_THAT(p->fix, HasSubstr("starttls-required"));
    EXPECT_THAT(p->fix, HasSubstr("insecure = true"));
  }
}

TEST_F(LintTest, InsecureTrueTurnsItIntoAWarning) {
  const auto ps = lint_text(listener("127.0.0.1:2587", "submission", "none", true));
  EXPECT_EQ(find(ps, Severity::error, "plaintext"), nullptr) << dump(ps);
  EXPECT_NE(find(ps, Severity::warning, "passwords may be sent without TLS"), nullptr) << dump(ps);
}

TEST_F(LintTest, InsecureWhereItMeansNothing) {
  const auto ps = lint_text(listener("0.0.0.0:587", "submission", "starttls-required", true));
  EXPECT_NE(find(ps, Severity::warning, "insecure = true has no effect"), nullptr) << dump(ps);
}

TEST_F(LintTest, RelayOnSubmissionPorts) {
  for (const char* address : {"0.0.0.0:587", "0.0.0.0:2525", "127.0.0.1:2587"}) {
    const auto ps = lint_text(listener(address, "relay", "starttls"));
    EXPECT_NE(find(ps, Severity::warning, "is a submission port (RFC 6409"), nullptr)
        << address << "\n"
        << dump(ps);
  }
}

TEST_F(LintTest, SubmissionOnPort25) {
  const auto ps = lint_text(listener("0.0.0.0:25", "submission", "starttls-required"));
  EXPECT_NE(find(ps, Severity::warning, "port 25 is for server-to-server relay"), nullptr)
      << dump(ps);
}

TEST_F(LintTest, TlsModeAgainstWellKnownPorts) {
  auto ps = lint_text(listener("0.0.0.0:587", "submission", "implicit"));
  EXPECT_NE(find(ps, Severity::warning, "port 587 speaks STARTTLS"), nullptr) << dump(ps);
  ps = lint_text(listener("0.0.0.0:25", "relay", "implicit"));
  EXPECT_NE(find(ps, Severity::warning, "port 25 speaks STARTTLS"), nullptr) << dump(ps);
  ps = lint_text(listener("0.0.0.0:465", "submission", "starttls-required"));
  EXPECT_NE(find(ps, Severity::warning, "465 is implicit TLS (RFC 8314)"), nullptr) << dump(ps);
  ps = lint_text(listener("0.0.0.0:25", "relay", "starttls-required"));
  EXPECT_NE(find(ps, Severity::warning, "RFC 3207"), nullptr) << dump(ps);
}

TEST_F(LintTest, MissingCertificate) {
  std::filesystem::remove(dir_ / "cert.pem");
  const auto ps = lint_text(kGood);
  const Problem* p = find(ps, Severity::error, "cert.pem cannot be used: no such file");
  ASSERT_NE(p, nullptr) << dump(ps);
  EXPECT_EQ(p->where, "postern.toml:5");
  EXPECT_THAT(p->message, HasSubstr("0.0.0.0:587"));
}

TEST_F(LintTest, NoCertificateNeededWithoutTls) {
  std::filesystem::remove(dir_ / "cert.pem");
  std::filesystem::remove(dir_ / "key.pem");
  const auto ps = lint_text(listener("0.0.0.0:25", "relay", "none"));
  EXPECT_TRUE(ps.empty()) << dump(ps);
}

TEST_F(LintTest, GarbageCertificateAndKey) {
  dir_.write("cert.pem", "hello\n");
  dir_.write("key.pem", "world\n");
  const auto ps = lint_text(kGood);
  EXPECT_NE(find(ps, Severity::error, "no PEM certificate"), nullptr) << dump(ps);
  EXPECT_NE(find(ps, Severity::error, "no PEM private key"), nullptr) << dump(ps);
}

TEST_F(LintTest, KeyMismatch) {
  make_certificate(dir_ / "other.pem", dir_ / "key.pem", CertSpec{});
  const auto ps = lint_text(kGood);
  const Problem* p = find(ps, Severity::error, "does not match certificate");
  ASSERT_NE(p, nullptr) << dump(ps);
  EXPECT_EQ(p->where, "postern.toml:6");
}

TEST_F(LintTest, ExpiredCertificate) {
  CertSpec spec;
  spec.not_before = -std::chrono::hours(24 * 90);
  spec.not_after = -std::chrono::hours(1);
  make_certificate(dir_ / "cert.pem", dir_ / "key.pem", spec);
  const auto ps = lint_text(kGood);
  EXPECT_NE(find(ps, Severity::error, "expired on"), nullptr) << dump(ps);
}

TEST_F(LintTest, CertificateExpiringSoon) {
  CertSpec spec;
  spec.not_after = std::chrono::hours(24 * 5);
  make_certificate(dir_ / "cert.pem", dir_ / "key.pem", spec);
  const auto ps = lint_text(kGood);
  EXPECT_NE(find(ps, Severity::warning, "in less than 14 days"), nullptr) << dump(ps);
  EXPECT_EQ(find(ps, Severity::error, "expired"), nullptr) << dump(ps);
}

TEST_F(LintTest, CertificateNotYetValid) {
  CertSpec spec;
  spec.not_before = std::chrono::hours(24);
  make_certificate(dir_ / "cert.pem", dir_ / "key.pem", spec);
  const auto ps = lint_text(kGood);
  EXPECT_NE(find(ps, Severity::error, "is not valid yet"), nullptr) << dump(ps);
}

TEST_F(LintTest, SelfSignedCertificate) {
  CertSpec spec;
  spec.self_signed = true;
  make_certificate(dir_ / "cert.pem", dir_ / "key.pem", spec);
  const auto ps = lint_text(kGood);
  EXPECT_NE(find(ps, Severity::warning, "is self-signed"), nullptr) << dump(ps);
}

TEST_F(LintTest, CertificateForAnotherName) {
  CertSpec spec;
  spec.common_name = "www.example.net";
  spec.dns_names = {"www.example.net"};
  make_certificate(dir_ / "cert.pem", dir_ / "key.pem", spec);
  const auto ps = lint_text(kGood);
  const Problem* p = find(ps, Severity::warning, "does not cover hostname \"mail.example.com\"");
  ASSERT_NE(p, nullptr) << dump(ps);
  EXPECT_THAT(p->message, HasSubstr("www.example.net"));
}

TEST_F(LintTest, OpenRelayNetworks) {
  for (const char* net :
       {"0.0.0.0/0", "::/0", "10.0.0.0/7", "2000::/3", "::ffff:0:0/96", "::/64"}) {
    const auto ps = lint_text(kGood, std::string("relay_networks = [\"") + net + "\"]\n");
    const Problem* p = find(ps, Severity::error, "makes postern an open relay");
    ASSERT_NE(p, nullptr) << net << "\n" << dump(ps);
    EXPECT_EQ(p->where, "postern.toml:4");
  }
}

TEST_F(LintTest, PublicAndPrivateRelayNetworks) {
  auto ps = lint_text(kGood, "relay_networks = [\"203.0.113.0/24\", \"2001:db8::/48\"]\n");
  EXPECT_NE(find(ps, Severity::warning, "\"203.0.113.0/24\" contains public addresses"), nullptr)
      << dump(ps);
  EXPECT_NE(find(ps, Severity::warning, "\"2001:db8::/48\" contains public addresses"), nullptr)
      << dump(ps);
  ps = lint_text(kGood,
                 "relay_networks = [\"127.0.0.0/8\", \"10.0.0.0/8\", \"192.168.1.0/24\", "
                 "\"172.16.5.0/24\", \"::1\", \"fd00::/8\", \"::ffff:192.168.1.0/120\"]\n");
  EXPECT_TRUE(ps.empty()) << dump(ps);
}

TEST_F(LintTest, EmptyLocalDomainsWithARelayListener) {
  auto text = kGood;
  auto r = load_string(
      "hostname = \"mail.example.com\"\ndata_dir = \"data\"\n[tls]\ncert = "
      "\"cert.pem\"\nkey = \"key.pem\"\n[auth]\nusers_file = \"users\"\n" +
          text,
      "postern.toml", dir_.path());
  ASSERT_TRUE(r.config);
  const auto ps = lint(*r.config);
  EXPECT_NE(find(ps, Severity::warning, "local_domains is empty"), nullptr) << dump(ps);
}

TEST_F(LintTest, UnusableDataDir) {
  dir_.write("afile", "x");
  auto ps = lint_text(kGood, "", "");
  EXPECT_TRUE(ps.empty());
  // data_dir below a regular file can never be created, even by root.
  auto r = load_string(
      "hostname = \"mail.example.com\"\ndata_dir = \"afile/sub\"\n"
      "local_domains = [\"example.com\"]\n[tls]\ncert = \"cert.pem\"\nkey = "
      "\"key.pem\"\n[auth]\nusers_file = \"users\"\n" +
          kGood,
      "postern.toml", dir_.path());
  ASSERT_TRUE(r.config);
  ps = lint(*r.config);
  const Problem* p = find(ps, Severity::error, "cannot be created");
  ASSERT_NE(p, nullptr) << dump(ps);
  EXPECT_EQ(p->where, "postern.toml:2");
  EXPECT_THAT(p->message, HasSubstr("is not a directory"));

  r = load_string("hostname = \"mail.example.com\"\ndata_dir = \"afile\"\n" + kGood, "postern.toml",
                  dir_.path());
  ASSERT_TRUE(r.config);
  ps = lint(*r.config);
  EXPECT_NE(find(ps, Severity::error, "afile is not a directory"), nullptr) << dump(ps);
}

TEST_F(LintTest, DataDirIsProbedWithoutLeavingTraces) {
  std::filesystem::create_directories(dir_ / "data");
  const auto ps = lint_text(kGood);
  EXPECT_TRUE(ps.empty()) << dump(ps);
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "data"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data" / "spool"));
}

TEST_F(LintTest, UsersFile) {
  std::filesystem::remove(dir_ / "users");
  auto ps = lint_text(kGood);
  const Problem* p = find(ps, Severity::warning, "does not exist: nobody can authenticate");
  ASSERT_NE(p, nullptr) << dump(ps);
  EXPECT_THAT(p->fix, HasSubstr("postern user add"));
  // Relay-only servers have no use for it.
  ps = lint_text(listener("0.0.0.0:25", "relay", "starttls"));
  EXPECT_TRUE(ps.empty()) << dump(ps);
  // A directory where the file should be cannot be read.
  std::filesystem::create_directories(dir_ / "users");
  ps = lint_text(kGood);
  EXPECT_NE(find(ps, Severity::error, "cannot be read"), nullptr) << dump(ps);
}

TEST_F(LintTest, UnsafeAckIsLoud) {
  const auto ps = lint_text(kGood, "", "[spool]\nunsafe_ack_before_fsync = true\n");
  const Problem* p = find(ps, Severity::warning, "UNSAFE");
  ASSERT_NE(p, nullptr) << dump(ps);
  EXPECT_THAT(p->message, HasSubstr("acknowledged mail can be lost on a crash"));
  EXPECT_EQ(p->where, "postern.toml:10");
}

TEST_F(LintTest, HostnameNotFullyQualified) {
  auto r = load_string(
      "hostname = \"mailhost\"\ndata_dir = \"data\"\nlocal_domains = "
      "[\"example.com\"]\n" +
          listener("0.0.0.0:25", "relay", "none"),
      "postern.toml", dir_.path());
  ASSERT_TRUE(r.config);
  const auto ps = lint(*r.config);
  const Problem* p = find(ps, Severity::warning, "\"mailhost\" is not a fully qualified");
  ASSERT_NE(p, nullptr) << dump(ps);
  EXPECT_EQ(p->where, "postern.toml:1");
}

TEST(LintEmbedded, FirstStartHasNothingToSay) {
  TempDir dir;
  const Config c = embedded_default(dir.path());
  const auto ps = lint(c);
  // No certificate or users file yet: serve creates them on first start.
  EXPECT_TRUE(ps.empty()) << dump(ps);
}

TEST(LintEmbedded, GeneratedCertificateIsOnlyAWarning) {
  TempDir dir;
  const Config c = embedded_default(dir.path());
  ASSERT_EQ(tls::generate_self_signed(c.tls.cert, c.tls.key, c.hostname), "");
  const auto ps = lint(c);
  ASSERT_EQ(ps.size(), 1u) << dump(ps);
  EXPECT_EQ(ps[0].severity, Severity::warning);
  EXPECT_THAT(ps[0].message, HasSubstr("embedded default's self-signed certificate"));
  EXPECT_THAT(ps[0].where, HasSubstr("<embedded default>:"));
}

}  // namespace
}  // namespace postern::config
