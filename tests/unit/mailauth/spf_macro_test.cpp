// RFC 7208 §7.4's own examples, and the syntax errors that make a macro
// string a permerror.
#include "mailauth/spf/macro.hpp"

#include <gtest/gtest.h>

namespace postern::mailauth::spf {
namespace {

MacroValues rfc_values(const char* ip) {
  MacroValues v;
  v.sender = "strong-bad@email.example.com";
  v.local_part = "strong-bad";
  v.sender_domain = "email.example.com";
  v.domain = "email.example.com";
  v.ip = *IpAddress::parse(ip);
  v.helo = "mx.example.org";
  return v;
}

struct Case {
  const char* macro;
  const char* expanded;
};

TEST(SpfMacro, Rfc7208Section74Examples) {
  const Case cases[] = {
      {"%{s}", "strong-bad@email.example.com"},
      {"%{o}", "email.example.com"},
      {"%{d}", "email.example.com"},
      {"%{d4}", "email.example.com"},
      {"%{d3}", "email.example.com"},
      {"%{d2}", "example.com"},
      {"%{d1}", "com"},
      {"%{dr}", "com.example.email"},
      {"%{d2r}", "example.email"},
      {"%{l}", "strong-bad"},
      {"%{l-}", "strong.bad"},
      {"%{lr}", "strong-bad"},
      {"%{lr-}", "bad.strong"},
      {"%{l1r-}", "strong"},
      {"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
      {"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
      {"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
      {"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
      {"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
      {"%%%_%-", "% %20"},
      {"%{S}", "strong-bad%40email.example.com"},
  };
  const MacroValues v = rfc_values("192.0.2.3");
  for (const auto& c : cases) {
    std::string error;
    const auto out = expand_macros(c.macro, v, MacroUse::domain_spec, error);
    ASSERT_TRUE(out) << c.macro << ": " << error;
    EXPECT_EQ(*out, c.expanded) << c.macro;
  }
}

TEST(SpfMacro, Ipv6ClientIsDotFormatNibbles) {
  const MacroValues v = rfc_values("2001:db8::cb01");
  std::string error;
  EXPECT_EQ(*expand_macros("%{ir}.%{v}._spf.%{d2}", v, MacroUse::domain_spec, error),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
}

TEST(SpfMacro, ExplanationOnlyLettersAndSpaces) {
  MacroValues v = rfc_values("192.0.2.3");
  v.receiver = "mx.example.net";
  v.now = 1700000000;
  std::string error;
  EXPECT_EQ(
      *expand_macros("%{c} is not allowed by %{o} (%{r} at %{t})", v, MacroUse::explanation, error),
      "192.0.2.3 is not allowed by email.example.com (mx.example.net at 1700000000)");
  EXPECT_FALSE(expand_macros("%{c}.example.com", v, MacroUse::domain_spec, error));
  EXPECT_FALSE(expand_macros("a b.example.com", v, MacroUse::domain_spec, error));
}

TEST(SpfMacro, SyntaxErrorsAreRefused) {
  for (const char* bad : {"%", "%x", "%{", "%{}", "%{z}", "%{d0}", "%{d2x}", "%{d"}) {
    std::string error;
    EXPECT_FALSE(valid_macro_string(bad, MacroUse::domain_spec, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(SpfMacro, LongNamesLoseLabelsFromTheLeft) {
  std::string name;
  for (int i = 0; i < 30; ++i) name += "abcdefghi.";
  name += "example.com";
  const std::string cut = truncate_domain(name);
  EXPECT_LE(cut.size(), 253u);
  EXPECT_TRUE(cut.ends_with(".example.com"));
  EXPECT_EQ(cut.substr(0, 10), "abcdefghi.");
}

TEST(SpfMacro, PMacroIsDetected) {
  EXPECT_TRUE(uses_p_macro("%{p}.example.com"));
  EXPECT_TRUE(uses_p_macro("x.%{P2}"));
  EXPECT_FALSE(uses_p_macro("%%{p}"));
  EXPECT_FALSE(uses_p_macro("%{d}"));
}

}  // namespace
}  // namespace postern::mailauth::spf
