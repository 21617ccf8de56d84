// [inbound] (SPEC §1.8): defaults, every key with its type, file:line on
// errors, the lints, and what `postern config` prints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config/effective.hpp"
#include "unit/config/base_config.hpp"

namespace postern::config {
namespace {

using ::testing::HasSubstr;

using testing::kBase;

// Line 10 is the first line after "[inbound]".
LoadResult load_inbound(const std::string& body, const char* base = kBase) {
  return testing::load_section("inbound", body, base);
}

std::string dump(const std::vector<Problem>& problems) {
  std::string out;
  for (const auto& p : problems) out += p.where + ": " + p.message + " | fix: " + p.fix + "\n";
  return out;
}

TEST(InboundLoad, DefaultsWithoutTheTable) {
  auto r = load_string(kBase, "postern.toml", "/srv/conf");
  ASSERT_TRUE(r.config) << dump(r.problems);
  const InboundConfig& in = r.config->inbound;
  EXPECT_TRUE(in.spf);
  EXPECT_TRUE(in.dkim);
  EXPECT_TRUE(in.dmarc);
  EXPECT_EQ(in.dmarc_policy, "tag");
  EXPECT_FALSE(in.enforce());
  EXPECT_TRUE(in.dnsbl.empty());
}

TEST(InboundLoad, EveryKey) {
  auto r = load_inbound(
      "spf = false\ndkim = false\ndmarc = true\ndmarc_policy = \"enforce\"\n"
      "dnsbl = [\"zen.spamhaus.org\", \"BL.Example.\", \"zen.spamhaus.org\"]\n");
  ASSERT_TRUE(r.config) << dump(r.problems);
  const InboundConfig& in = r.config->inbound;
  EXPECT_FALSE(in.spf);
  EXPECT_FALSE(in.dkim);
  EXPECT_TRUE(in.enforce());
  EXPECT_EQ(in.dnsbl, (std::vector<std::string>{"zen.spamhaus.org", "bl.example"}));
  EXPECT_EQ(r.config->where("inbound.dnsbl"), "/srv/conf/postern.toml:14");
}

TEST(InboundLoad, ErrorsNameTheLineAndTheFix) {
  auto r = load_inbound(
      "spf = \"yes\"\ndmarc_policy = \"reject\"\ndnsbl = [\"1.2.3.4/24\"]\nspam = 1\n");
  EXPECT_FALSE(r.config);
  const std::string all = dump(r.problems);
  EXPECT_THAT(all, HasSubstr("postern.toml:10"));
  EXPECT_THAT(all, HasSubstr("dmarc_policy"));
  EXPECT_THAT(all, HasSubstr("\"tag\", \"enforce\""));
  EXPECT_THAT(all, HasSubstr("postern.toml:12: [inbound] dnsbl entry \"1.2.3.4/24\""));
  EXPECT_THAT(all, HasSubstr("spam"));
}

TEST(InboundLint, EnforceWithoutDmarcAndDmarcWithoutSpfOrDkim) {
  auto r = load_inbound("dmarc = false\ndmarc_policy = \"enforce\"\n");
  ASSERT_TRUE(r.config);
  EXPECT_THAT(dump(lint(*r.config)), HasSubstr("has no effect while dmarc = false"));
  r = load_inbound("spf = false\ndkim = false\n");
  ASSERT_TRUE(r.config);
  EXPECT_THAT(dump(lint(*r.config)), HasSubstr("every message with a DMARC record fails"));
  r = load_inbound("dnsbl = [\"bl.example\"]\n");
  ASSERT_TRUE(r.config);
  EXPECT_THAT(dump(lint(*r.config)), ::testing::Not(HasSubstr("[inbound]")));
}

TEST(InboundEffective, PrintedByPosternConfig) {
  auto r = load_inbound("dnsbl = [\"bl.example\"]\n");
  ASSERT_TRUE(r.config);
  const std::string text = render_effective(*r.config, {});
  EXPECT_THAT(text, HasSubstr("[inbound]\nspf = true  # default\n"));
  EXPECT_THAT(text, HasSubstr("dmarc_policy = \"tag\"  # default\n"));
  EXPECT_THAT(text, HasSubstr("dnsbl = [\"bl.example\"]\n"));
}

}  // namespace
}  // namespace postern::config
