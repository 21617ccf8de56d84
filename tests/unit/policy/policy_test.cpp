#include <gtest/gtest.h>

#include "policy/address.hpp"
#include "policy/relay.hpp"
#include "policy/static_directory.hpp"

namespace postern::policy {
namespace {

StaticDirectory directory() {
  return StaticDirectory({"example.com", "Example.ORG"},
                         {"alice@example.com", "bob@EXAMPLE.com", "carol@example.org"});
}

RcptVerdict verdict(std::string_view path, bool may_relay = false) {
  auto p = parse_path(path, true);
  if (!p) ADD_FAILURE() << "does not parse: " << path;
  const auto d = directory();
  return check_recipient(*p, d, may_relay);
}

TEST(ParsePath, PlainAndNull) {
  auto p = parse_path("<alice@example.com>", false);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->null);
  EXPECT_EQ(p->mailbox.local, "alice");
  EXPECT_EQ(p->mailbox.domain, "example.com");
  EXPECT_EQ(p->mailbox.text(), "alice@example.com");
  auto n = parse_path("<>", false);
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->null);
}

TEST(ParsePath, RejectsBadSyntax) {
  for (const char* bad :
       {"alice@example.com", "<alice@example.com", "<alice>", "<@example.com>", "<alice@>",
        "<a..b@example.com>", "<.a@example.com>", "<a.@example.com>", "<a b@example.com>",
        "<alice@-bad.com>", "<alice@bad-.com>", "<alice@exa..mple.com>", "<\"open@example.com>",
        "<@x:alice@example.com", "<@:a@b>", "<a@b@c>"}) {
    EXPECT_FALSE(parse_path(bad, true)) << bad;
  }
  EXPECT_FALSE(parse_path(std::string("<a\0b@example.com>", 17), true));
}

TEST(ParsePath, LengthLimitsOfRfc5321) {
  const std::string local64(64, 'a');
  EXPECT_TRUE(parse_path("<" + local64 + "@example.com>", false));
  EXPECT_FALSE(parse_path("<" + local64 + "a@example.com>", false));
  const std::string label63(63, 'b');
  EXPECT_TRUE(parse_path("<a@" + label63 + ".com>", false));
  EXPECT_FALSE(parse_path("<a@" + label63 + "b.com>", false));
}

TEST(ParsePath, Utf8OnlyWithSmtputf8) {
  EXPECT_FALSE(parse_path("<j\xc3\xb6rg@example.com>", false));
  EXPECT_TRUE(parse_path("<j\xc3\xb6rg@example.com>", true));
  EXPECT_TRUE(
      parse_path("<a@b\xc3\xbc"
                 "cher.de>",
                 true));
}

TEST(ParsePath, QuotedLocalPartAndSourceRoute) {
  auto q = parse_path("<\"a@b\"@example.com>", false);
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->mailbox.quoted);
  EXPECT_EQ(q->mailbox.local, "a@b");
  EXPECT_EQ(q->mailbox.text(), "\"a@b\"@example.com");
  auto r = parse_path("<@x.net,@y.net:a@example.com>", false);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->source_route);
  EXPECT_EQ(r->mailbox.text(), "a@example.com");
  EXPECT_TRUE(parse_path("<a@[127.0.0.1]>", false));
}

TEST(Relay, LocalMailboxesAcceptedUnknownRefused) {
  EXPECT_EQ(verdict("<alice@example.com>"), RcptVerdict::accept);
  EXPECT_EQ(verdict("<alice@EXAMPLE.COM>"), RcptVerdict::accept);
  EXPECT_EQ(verdict("<bob@example.com>"), RcptVerdict::accept);
  EXPECT_EQ(verdict("<carol@example.org>"), RcptVerdict::accept);
  EXPECT_EQ(verdict("<nobody@example.com>"), RcptVerdict::unknown_user);
  // Local parts are case-sensitive (RFC 5321 §2.4).
  EXPECT_EQ(verdict("<Alice@example.com>"), RcptVerdict::unknown_user);
}

TEST(Relay, NeverAnOpenRelay) {
  EXPECT_EQ(verdict("<alice@elsewhere.net>"), RcptVerdict::relay_denied);
  EXPECT_EQ(verdict("<alice@example.com.evil.net>"), RcptVerdict::relay_denied);
  EXPECT_EQ(verdict("<alice@[127.0.0.1]>"), RcptVerdict::relay_denied);
  EXPECT_EQ(verdict("<>"), RcptVerdict::relay_denied);
}

TEST(Relay, RoutingTricksAimedAtALocalDomainAreDenied) {
  for (bool trusted : {false, true}) {
    EXPECT_EQ(verdict("<victim%elsewhere.net@example.com>", trusted), RcptVerdict::relay_denied);
    EXPECT_EQ(verdict("<elsewhere.net!victim@example.com>", trusted), RcptVerdict::relay_denied);
    EXPECT_EQ(verdict("<\"victim@elsewhere.net\"@example.com>", trusted),
              RcptVerdict::relay_denied);
    EXPECT_EQ(verdict("<@x.net,@y.net:alice@example.com>", trusted), RcptVerdict::relay_denied);
    EXPECT_EQ(verdict("<@example.com:victim@elsewhere.net>", trusted), RcptVerdict::relay_denied);
  }
}

TEST(Relay, TrustedClientsMayRelay) {
  EXPECT_EQ(verdict("<someone@elsewhere.net>", true), RcptVerdict::accept);
  EXPECT_EQ(verdict("<nobody@example.com>", true), RcptVerdict::unknown_user);
}

TEST(StaticDirectory, DomainsCaseInsensitiveWithTrailingDot) {
  const auto d = directory();
  EXPECT_TRUE(d.is_local_domain("EXAMPLE.com"));
  EXPECT_TRUE(d.is_local_domain("example.org."));
  EXPECT_FALSE(d.is_local_domain("example.net"));
}

TEST(StaticDirectory, SenderOwnership) {
  const auto d = directory();
  EXPECT_TRUE(d.user_owns_sender("alice@example.com", "alice@EXAMPLE.com"));
  EXPECT_TRUE(d.user_owns_sender("alice@example.com", "alice+lists@example.com"));
  EXPECT_FALSE(d.user_owns_sender("alice@example.com", "bob@example.com"));
  EXPECT_FALSE(d.user_owns_sender("alice@example.com", "alice@example.org"));
  EXPECT_FALSE(d.user_owns_sender("alice@example.com", "alicex@example.com"));
  EXPECT_FALSE(d.user_owns_sender("alice@example.com", "alic+e@example.com"));
}

}  // namespace
}  // namespace postern::policy
