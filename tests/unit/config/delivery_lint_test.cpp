// The [delivery] lints: each fires where it must and stays quiet otherwise.
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "tools/temp_dir.hpp"

namespace postern::config {
namespace {

using postern::testing::TempDir;
using Severity = Problem::Severity;

class DeliveryLintTest : public ::testing::Test {
 protected:
  // Only the delivery problems: the rest of the configuration is minimal
  // and its own lints are tested elsewhere.
  std::vector<Problem> lint_delivery(const std::string& body) {
    const std::string text =
        "hostname = \"mail.example.com\"\n"
        "data_dir = \"data\"\n"
        "local_domains = [\"example.com\"]\n"
        "[[listener]]\naddress = \"127.0.0.1:25\"\nrole = \"relay\"\ntls = \"none\"\n"
        "[delivery]\n" +
        body;
    auto r = load_string(text, "postern.toml", dir_.path());
    EXPECT_TRUE(r.config) << "test configuration does not load";
    if (!r.config) return {};
    std::vector<Problem> out;
    for (auto& p : lint(*r.config)) {
      const bool delivery = p.message.find("smarthost") != std::string::npos ||
                            p.message.find("retry") != std::string::npos ||
                            p.message.find("max_queue_lifetime") != std::string::npos ||
                            p.message.find("fallback_ports") != std::string::npos;
      if (delivery) out.push_back(std::move(p));
    }
    return out;
  }

  static std::string dump(const std::vector<Problem>& ps) {
    std::string out;
    for (const auto& p : ps) {
      out += p.where + ": " + (p.severity == Severity::error ? "error: " : "warning: ") +
             p.message + " | fix: " + p.fix + "\n";
    }
    return out;
  }

  static int count(const std::vector<Problem>& ps, Severity s, const std::string& text,
                   const std::string& where = "") {
    int n = 0;
    for (const auto& p : ps) {
      if (p.severity == s && p.message.find(text) != std::string::npos && !p.fix.empty() &&
          (where.empty() || p.where == where)) {
        ++n;
      }
    }
    return n;
  }

  std::string password_file(mode_t mode, const std::string& text = "s3cret\n") {
    const auto p = dir_.write("smarthost-password", text);
    ::chmod(p.c_str(), mode);
    return p.string();
  }

  TempDir dir_;
};

TEST_F(DeliveryLintTest, CleanSmarthostWithPasswordFile) {
  const auto file = password_file(0600);
  const auto ps = lint_delivery(
      "smarthost = \"smtp.provider.example:587\"\n"
      "smarthost_user = \"relay@example.com\"\n"
      "smarthost_password_file = \"" +
      file + "\"\n");
  EXPECT_TRUE(ps.empty()) << dump(ps);
}

TEST_F(DeliveryLintTest, NoSmarthostNoProblems) {
  const auto ps = lint_delivery("tls = \"required\"\n");
  EXPECT_TRUE(ps.empty()) << dump(ps);
}

TEST_F(DeliveryLintTest, PlaintextHubWarns) {
  const auto ps = lint_delivery("smarthost = \"10.0.0.5:25\"\nsmarthost_tls = \"none\"\n");
  EXPECT_EQ(count(ps, Severity::warning,
                  "mail crosses the network unencrypted; only for an "
                  "internal relay hub",
                  "postern.toml:10"),
            1)
      << dump(ps);
  EXPECT_EQ(ps.size(), 1u) << dump(ps);
}

TEST_F(DeliveryLintTest, PlaintextHubWithCredentialsIsAnError) {
  const auto file = password_file(0600);
  const auto ps = lint_delivery(
      "smarthost = \"10.0.0.5:25\"\nsmarthost_tls = \"none\"\n"
      "smarthost_user = \"relay\"\nsmarthost_password_file = \"" +
      file + "\"\n");
  EXPECT_EQ(count(ps, Severity::error, "credentials would cross the network in plaintext",
                  "postern.toml:11"),
            1)
      << dump(ps);
}

TEST_F(DeliveryLintTest, InlinePasswordWarns) {
  const auto ps = lint_delivery(
      "smarthost = \"smtp.provider.example:587\"\n"
      "smarthost_user = \"relay\"\nsmarthost_password = \"hunter2\"\n");
  EXPECT_EQ(count(ps, Severity::warning, "smarthost_password is written in the configuration",
                  "postern.toml:11"),
            1)
      << dump(ps);
  EXPECT_EQ(count(ps, Severity::error, ""), 0) << dump(ps);
  // The lint never repeats the password it warns about.
  for (const auto& p : ps) EXPECT_EQ(p.message.find("hunter2"), std::string::npos);
}

TEST_F(DeliveryLintTest, UserWithoutPasswordIsAnError) {
  const auto ps = lint_delivery(
      "smarthost = \"smtp.provider.example:587\"\n"
      "smarthost_user = \"relay\"\n");
  EXPECT_EQ(count(ps, Severity::error, "no password is configured", "postern.toml:10"), 1)
      << dump(ps);
}

TEST_F(DeliveryLintTest, PasswordWithoutUserWarns) {
  const auto ps = lint_delivery(
      "smarthost = \"smtp.provider.example:587\"\n"
      "smarthost_password = \"x\"\n");
  EXPECT_EQ(count(ps, Severity::warning, "without smarthost_user"), 1) << dump(ps);
}

TEST_F(DeliveryLintTest, UnreadablePasswordFileIsAnError) {
  auto ps = lint_delivery(
      "smarthost = \"smtp.provider.example:587\"\n"
      "smarthost_user = \"relay\"\n"
      "smarthost_password_file = \"missing-password\"\n");
  EXPECT_EQ(count(ps, Severity::error, "missing-password cannot be used", "postern.toml:11"), 1)
      << dump(ps);
  const auto empty = password_file(0600, "\n");
  ps = lint_delivery(
      "smarthost = \"smtp.provider.example:587\"\nsmarthost_user = \"relay\"\n"
      "smarthost_password_file = \"" +
      empty + "\"\n");
  EXPECT_EQ(count(ps, Severity::error, "its first line is empty"), 1) << dump(ps);
}

TEST_F(DeliveryLintTest, WorldReadablePasswordFileWarns) {
  const auto file = password_file(0644);
  const auto ps = lint_delivery(
      "smarthost = \"smtp.provider.example:587\"\n"
      "smarthost_user = \"relay\"\nsmarthost_password_file = \"" +
      file + "\"\n");
  EXPECT_EQ(count(ps, Severity::warning, "is readable by other users"), 1) << dump(ps);
  EXPECT_EQ(count(ps, Severity::error, ""), 0) << dump(ps);
}

TEST_F(DeliveryLintTest, UnreadableCaFileIsAnError) {
  const auto ps = lint_delivery(
      "smarthost = \"smtp.provider.example:587\"\n"
      "smarthost_ca_file = \"no-such-ca.pem\"\n");
  EXPECT_EQ(count(ps, Severity::error, "smarthost_ca_file"), 1) << dump(ps);
}

TEST_F(DeliveryLintTest, SmarthostSettingsWithoutSmarthostWarn) {
  const auto ps = lint_delivery("smarthost_tls = \"implicit\"\nfallback_ports = [2525]\n");
  EXPECT_EQ(count(ps, Severity::warning, "smarthost_tls has no effect without smarthost"), 1)
      << dump(ps);
  EXPECT_EQ(count(ps, Severity::warning, "fallback_ports has no effect without smarthost"), 1)
      << dump(ps);
}

TEST_F(DeliveryLintTest, RetryInitialLongerThanMaxIsAnError) {
  auto ps = lint_delivery("retry_initial = \"2h\"\nretry_max = \"1h\"\n");
  EXPECT_EQ(count(ps, Severity::error, "retry_initial (7200s) is longer than retry_max (3600s)",
                  "postern.toml:9"),
            1)
      << dump(ps);
  // Against the default retry_max of one hour, too.
  ps = lint_delivery("retry_initial = \"2h\"\n");
  EXPECT_EQ(count(ps, Severity::error, "is longer than retry_max"), 1) << dump(ps);
  ps = lint_delivery("retry_initial = \"1h\"\nretry_max = \"1h\"\n");
  EXPECT_TRUE(ps.empty()) << dump(ps);
}

TEST_F(DeliveryLintTest, LifetimeShorterThanFirstRetryWarns) {
  const auto ps = lint_delivery("retry_initial = \"10m\"\nmax_queue_lifetime = \"5m\"\n");
  EXPECT_EQ(count(ps, Severity::warning, "bounced without a retry", "postern.toml:10"), 1)
      << dump(ps);
}

}  // namespace
}  // namespace postern::config
