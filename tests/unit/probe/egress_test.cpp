// The port-25 egress report: plain words and, when blocked, the smarthost
// recipe with every provider preset.
#include "probe/egress.hpp"

#include <gtest/gtest.h>

#include "probe/presets.hpp"

namespace postern::probe {
namespace {

EgressResult result(EgressOutcome outcome, std::string detail) {
  EgressResult r;
  r.target = "gmail-smtp-in.l.google.com:25";
  r.address = "192.0.2.25";
  r.outcome = outcome;
  r.detail = std::move(detail);
  return r;
}

TEST(Egress, TargetDefaultsToPort25) {
  const auto t = parse_egress_target("mx.example.net");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "mx.example.net");
  EXPECT_EQ(t->port, 25);
  EXPECT_EQ(parse_egress_target("[2001:db8::1]:2525")->port, 2525);
  EXPECT_FALSE(parse_egress_target("mx.example.net:99999"));
}

TEST(Egress, BlockedOutcomesPrintTheSmarthostRecipe) {
  for (const auto outcome : {EgressOutcome::timed_out, EgressOutcome::silent,
                             EgressOutcome::refused, EgressOutcome::unreachable}) {
    const EgressResult r = result(outcome, "no answer to the connection attempt within 10 s");
    EXPECT_TRUE(egress_blocked(r));
    const std::string text = render_egress_text(r);
    EXPECT_NE(text.find("BLOCKED"), std::string::npos) << text;
    EXPECT_NE(text.find("[delivery]\n  smarthost = "), std::string::npos) << text;
    EXPECT_NE(text.find("fallback_ports"), std::string::npos) << text;
    for (const Preset& p : presets()) EXPECT_NE(text.find(p.host), std::string::npos) << p.name;
    EXPECT_EQ(render_egress_json(r)["blocked"], true);
  }
}

TEST(Egress, OpenAndUnresolvedAreNotBlocks) {
  const EgressResult open = result(EgressOutcome::open, "220 mx.google.com ESMTP");
  EXPECT_FALSE(egress_blocked(open));
  EXPECT_EQ(render_egress_text(open),
            "Outbound port 25 (to gmail-smtp-in.l.google.com:25, 192.0.2.25): open (220 "
            "mx.google.com ESMTP)\n");
  const EgressResult unresolved = result(EgressOutcome::unresolved, "NXDOMAIN");
  EXPECT_FALSE(egress_blocked(unresolved));
  EXPECT_EQ(render_egress_text(unresolved).find("[delivery]"), std::string::npos);
  EXPECT_EQ(render_egress_json(unresolved)["outcome"], "unresolved");
}

}  // namespace
}  // namespace postern::probe
