// The command-line syntax of RFC 5321 §4.1 and of the parameters of SIZE
// (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), DSN (RFC 3461), AUTH=
// (RFC 4954 §5), BDAT (RFC 3030) and AUTH (RFC 4954 §4).
#include "smtp/command_parser.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace postern::smtp {
namespace {

TEST(SplitCommand, VerbIsUpperCasedArgsKeptAsSent) {
  auto c = split_command("mail FROM:<a@b>  SIZE=1");
  EXPECT_EQ(c.verb, "MAIL");
  EXPECT_EQ(c.args, "FROM:<a@b>  SIZE=1");
  c = split_command("QUIT");
  EXPECT_EQ(c.verb, "QUIT");
  EXPECT_EQ(c.args, "");
  c = split_command("");
  EXPECT_EQ(c.verb, "");
  c = split_command("EHLO\tx");  // only a space separates the verb
  EXPECT_EQ(c.verb, "EHLO\tX");
}

TEST(SplitPathArgument, PathAndParameters) {
  auto p = split_path_argument("FROM:<a@b.example> SIZE=10 BODY=8BITMIME", "FROM:");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->path, "<a@b.example>");
  EXPECT_EQ(p->params, "SIZE=10 BODY=8BITMIME");
  p = split_path_argument("to:<a@b.example>", "TO:");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->path, "<a@b.example>");
  EXPECT_EQ(p->params, "");
  p = split_path_argument("FROM:<>", "FROM:");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->path, "<>");
}

TEST(SplitPathArgument, ToleratesBlanksAfterTheColon) {
  auto p = split_path_argument("FROM: <a@b.example>", "FROM:");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->path, "<a@b.example>");
  p = split_path_argument("FROM:  \t<a@b.example>", "FROM:");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->path, "<a@b.example>");
}

TEST(SplitPathArgument, QuotedLocalPartMayHoldAngleBrackets) {
  auto p = split_path_argument(R"(TO:<"a>b\"c"@x.example> NOTIFY=NEVER)", "TO:");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->path, R"(<"a>b\"c"@x.example>)");
  EXPECT_EQ(p->params, "NOTIFY=NEVER");
}

TEST(SplitPathArgument, Refusals) {
  EXPECT_FALSE(split_path_argument("FROM:a@b.example", "FROM:"));   // no brackets
  EXPECT_FALSE(split_path_argument("FROM:<a@b.example", "FROM:"));  // unclosed
  EXPECT_FALSE(split_path_argument("TO:<a@b.example>", "FROM:"));   // other keyword
  EXPECT_FALSE(split_path_argument("FROM<a@b.example>", "FROM:"));  // no colon
  EXPECT_FALSE(split_path_argument("FROM:<a@b>SIZE=1", "FROM:"));   // no space before params
  EXPECT_FALSE(split_path_argument("", "FROM:"));
  EXPECT_TRUE(starts_with_keyword("  from:x", "FROM:"));
  EXPECT_FALSE(starts_with_keyword("FRO", "FROM:"));
}

TEST(MailParams, Known) {
  ParamError e;
  auto m =
      parse_mail_params("SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=hdrs ENVID=QQ314159+2B AUTH=<>", e);
  ASSERT_TRUE(m) << e.name;
  EXPECT_EQ(m->size, 1000u);
  EXPECT_TRUE(m->eight_bit);
  EXPECT_TRUE(m->smtputf8);
  EXPECT_EQ(m->ret, "HDRS");
  EXPECT_EQ(m->envid, "QQ314159+2B");
  m = parse_mail_params("body=7bit", e);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->eight_bit);
  m = parse_mail_params("", e);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->size);
}

TEST(MailParams, SizeSaturatesInsteadOfWrapping) {
  ParamError e;
  auto m = parse_mail_params("SIZE=99999999999999999999999999", e);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->size, std::numeric_limits<std::size_t>::max());
}

TEST(MailParams, UnknownAndBadValues) {
  const auto refused = [](std::string_view text, ParamError::Kind kind, std::string name) {
    ParamError e;
    EXPECT_FALSE(parse_mail_params(text, e)) << text;
    EXPECT_EQ(e.kind, kind) << text;
    EXPECT_EQ(e.name, name) << text;
  };
  using K = ParamError::Kind;
  refused("XFOO=1", K::unknown, "XFOO");
  refused("SIZE=1 X-BAR", K::unknown, "X-BAR");
  refused("SIZE=", K::bad_value, "SIZE");
  refused("SIZE=12a", K::bad_value, "SIZE");
  refused("SIZE=1 SIZE=2", K::bad_value, "SIZE");
  refused("BODY=BINARYMIME", K::bad_value, "BODY");  // not offered
  refused("SMTPUTF8=yes", K::bad_value, "SMTPUTF8");
  refused("RET=ALL", K::bad_value, "RET");
  refused("ENVID=" + std::string(101, 'a'), K::bad_value, "ENVID");
  refused("ENVID=a+zz", K::bad_value, "ENVID");  // bad xtext escape
  refused("ENVID=a+4", K::bad_value, "ENVID");
  refused("AUTH=", K::bad_value, "AUTH");
}

TEST(RcptParams, DsnNotifyAndOrcpt) {
  ParamError e;
  auto r = parse_rcpt_params("NOTIFY=success,delay ORCPT=rfc822;bob@x.example", e);
  ASSERT_TRUE(r) << e.name;
  EXPECT_EQ(r->notify, "SUCCESS,DELAY");
  EXPECT_EQ(r->orcpt, "rfc822;bob@x.example");
  r = parse_rcpt_params("NOTIFY=NEVER", e);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->notify, "NEVER");
  for (std::string_view bad :
       {"NOTIFY=", "NOTIFY=NEVER,SUCCESS", "NOTIFY=SOMETIMES", "NOTIFY=SUCCESS,",
        "ORCPT=bob@x.example", "ORCPT=;bob", "NOTIFY=NEVER NOTIFY=NEVER"}) {
    ParamError err;
    EXPECT_FALSE(parse_rcpt_params(bad, err)) << bad;
    EXPECT_EQ(err.kind, ParamError::Kind::bad_value) << bad;
  }
  ParamError err;
  EXPECT_FALSE(parse_rcpt_params("SIZE=1", err));  // a MAIL parameter
  EXPECT_EQ(err.kind, ParamError::Kind::unknown);
  EXPECT_FALSE(parse_rcpt_params("ORCPT=rfc822;" + std::string(500, 'a'), err));
}

TEST(BdatArgs, SizeAndLast) {
  auto b = parse_bdat_args("100");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size, 100u);
  EXPECT_FALSE(b->last);
  b = parse_bdat_args("0 last");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size, 0u);
  EXPECT_TRUE(b->last);
  b = parse_bdat_args("123456789012345678901234567890 LAST");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size, std::numeric_limits<std::size_t>::max());
  for (std::string_view bad : {"", "LAST", "-1", "1 FIRST", "1 LAST X", "0x10", "1.5"}) {
    EXPECT_FALSE(parse_bdat_args(bad)) << bad;
  }
}

TEST(AuthArgs, MechanismAndInitialResponse) {
  auto a = parse_auth_args("plain AGFsaWNlAHNlY3JldA==");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->mechanism, "PLAIN");
  EXPECT_TRUE(a->has_initial);
  EXPECT_EQ(a->initial, "AGFsaWNlAHNlY3JldA==");
  a = parse_auth_args("LOGIN");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->has_initial);
  // RFC 4954 §4: "=" is an initial response of zero length.
  a = parse_auth_args("PLAIN =");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->has_initial);
  EXPECT_EQ(a->initial, "");
  EXPECT_FALSE(parse_auth_args(""));
  EXPECT_FALSE(parse_auth_args("PLAIN a b"));
}

}  // namespace
}  // namespace postern::smtp
