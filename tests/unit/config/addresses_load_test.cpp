// [addresses] (SPEC §1.9): keys, defaults that depend on other keys, and
// errors with file:line.
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace postern::config {
namespace {

constexpr const char* kBase = R"(hostname = "mail.example.com"
data_dir = "/var/lib/postern"
local_domains = ["example.com", "example.org"]
[[listener]]
address = "0.0.0.0:25"
role = "relay"
tls = "none"
)";

LoadResult load(const std::string& text) {
  return load_string(std::string(kBase) + text, "postern.toml", "/etc/postern");
}

TEST(AddressesConfig, KeysAndDefaults) {
  const auto r = load(R"(
[addresses]
aliases_file = "aliases"
srs_secret_file = "/etc/postern/srs.key"
recipient_delimiter = "+-"
postmaster = "alice@example.com"
smarthost_rewrite_from = true
[addresses.smarthost_senders]
"@Example.com" = "relay@provider.example"
"*" = "other@provider.example"
)");
  ASSERT_TRUE(r.config) << (r.problems.empty() ? "" : r.problems.front().message);
  const auto& a = r.config->addresses;
  EXPECT_EQ(a.aliases_file, "/etc/postern/aliases");
  EXPECT_EQ(a.recipient_delimiter, "+-");
  EXPECT_EQ(a.postmaster, "alice@example.com");
  EXPECT_TRUE(a.smarthost_rewrite_from);
  EXPECT_EQ(a.smarthost_senders.at("@example.com"), "relay@provider.example");
  // SRS under the local domain hostname is in; bare names in the first one.
  EXPECT_EQ(a.effective_srs_domain("mail.example.com", r.config->local_domains), "example.com");
  EXPECT_EQ(a.effective_srs_domain("mx.elsewhere.net", r.config->local_domains),
            "mx.elsewhere.net");
  EXPECT_EQ(a.effective_default_domain("mail.example.com", r.config->local_domains), "example.com");
}

TEST(AddressesConfig, ErrorsNameTheLine) {
  const auto r = load(R"(
[addresses]
recipient_delimiter = "@"
postmaster = "not an address"
srs_domain = "bad domain"
aliases_fil = "x"
[addresses.smarthost_senders]
"@example.com" = "nobody"
)");
  EXPECT_FALSE(r.config);
  std::vector<std::string> where;
  for (const auto& p : r.problems) where.push_back(p.where);
  EXPECT_EQ(where,
            (std::vector<std::string>{"postern.toml:13", "postern.toml:10", "postern.toml:12",
                                      "postern.toml:11", "postern.toml:15"}));
  bool suggested = false;
  for (const auto& p : r.problems)
    suggested = suggested || p.fix.find("aliases_file") != std::string::npos;
  EXPECT_TRUE(suggested);
}

}  // namespace
}  // namespace postern::config
