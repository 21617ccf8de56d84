// [[dkim]]: the key is read and checked when the file loads; every problem
// names file:line and the command or edit that fixes it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "mailauth/dkim/key.hpp"
#include "tools/temp_dir.hpp"
#include "unit/config/base_config.hpp"

namespace postern::config {
namespace {

using postern::testing::TempDir;
using ::testing::HasSubstr;

// Lines 1-8 (unit/config/base_config.hpp); the first [[dkim]] table is on
// line 9.
using testing::kBase;

std::string dkim_table(std::string_view domain, std::string_view selector, std::string_view key) {
  return "[[dkim]]\ndomain = \"" + std::string(domain) + "\"\nselector = \"" +
         std::string(selector) + "\"\nkey = \"" + std::string(key) + "\"\n";
}

std::string dump(const LoadResult& r) {
  std::string out;
  for (const auto& p : r.problems) out += p.where + ": " + p.message + " | fix: " + p.fix + "\n";
  return out;
}

class DkimLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write(
        "ed.pem",
        mailauth::dkim::generate_key(mailauth::dkim::Algorithm::ed25519_sha256, 0).key->to_pem());
  }
  LoadResult load(const std::string& tables) {
    return load_string(std::string(kBase) + tables, (dir_ / "postern.toml").string(), dir_.path());
  }
  TempDir dir_;
};

TEST_F(DkimLoad, AKeyLoadsWithItsPathResolvedBesideTheFile) {
  const LoadResult r = load(dkim_table("Example.COM", "s1", "ed.pem"));
  ASSERT_TRUE(r.config) << dump(r);
  ASSERT_EQ(r.config->dkim.size(), 1u);
  const DkimConfig& d = r.config->dkim[0];
  EXPECT_EQ(d.domain, "example.com");
  EXPECT_EQ(d.selector, "s1");
  EXPECT_EQ(d.key, dir_ / "ed.pem");
  EXPECT_EQ(d.line, 9);
  ASSERT_TRUE(d.private_key);
  EXPECT_EQ(d.private_key->algorithm(), mailauth::dkim::Algorithm::ed25519_sha256);
}

TEST_F(DkimLoad, EveryProblemNamesItsLine) {
  dir_.write("junk.pem", "junk");
  const LoadResult r = load(
      dkim_table("example.com", "s1", "missing.pem") + dkim_table("example.com", "s2", "junk.pem") +
      dkim_table("example.com", "bad selector", "ed.pem") +
      dkim_table("example.com", "s4", "ed.pem") + dkim_table("example.com", "s4", "ed.pem") +
      "[[dkim]]\ndomain = \"x.test\"\n" +
      "[[dkim]]\ndomain = \"example.com\"\nselektor = \"s\"\nkey = \"ed.pem\"\n");
  EXPECT_FALSE(r.config);
  const std::string text = dump(r);
  const std::string file = (dir_ / "postern.toml").string();
  EXPECT_THAT(text, HasSubstr(file + ":12: dkim key " + (dir_ / "missing.pem").string() +
                              " does not exist | fix: create it with `postern dkim keygen "
                              "example.com --selector s1"));
  EXPECT_THAT(text, HasSubstr(file + ":16: dkim key " + (dir_ / "junk.pem").string() +
                              ": it is not a PEM private key"));
  EXPECT_THAT(text, HasSubstr(file + ":19: dkim selector \"bad selector\" is not a DNS label"));
  EXPECT_THAT(text, HasSubstr(file + ":25: a second [[dkim]] for example.com with selector s4 "
                                     "(the first is at line 21)"));
  EXPECT_THAT(text, HasSubstr(file + ":29: [[dkim]] needs domain, selector and key"));
  EXPECT_THAT(text, HasSubstr("unknown key \"dkim.selektor\""));
}

TEST_F(DkimLoad, NotAnArrayOfTables) {
  const LoadResult r = load_string("dkim = \"example.com\"\n" + std::string(kBase), "postern.toml");
  EXPECT_FALSE(r.config);
  EXPECT_THAT(dump(r), HasSubstr("dkim must be an array of tables"));
}

}  // namespace
}  // namespace postern::config
