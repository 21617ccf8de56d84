// The parts of the client protocol shared by delivery and `postern probe`.
#include "smtp/client_commands.hpp"

#include <gtest/gtest.h>

#include "sasl/sasl.hpp"

namespace postern::smtp::client {
namespace {

ServerReply reply(int code, std::vector<std::string> lines) {
  ServerReply r;
  r.code = code;
  r.lines = std::move(lines);
  return r;
}

TEST(ClientCommands, CapabilitiesFromEhlo) {
  const Capabilities caps =
      parse_capabilities(reply(250, {"mx.test", "PIPELINING", "SIZE 35882577", "STARTTLS",
                                     "auth plain login", "AUTH=LOGIN XOAUTH2", "dsn", "8BITMIME"}));
  EXPECT_TRUE(caps.esmtp && caps.pipelining && caps.starttls && caps.dsn && caps.eightbitmime);
  EXPECT_FALSE(caps.smtputf8);
  EXPECT_EQ(caps.auth, (std::vector<std::string>{"PLAIN", "LOGIN", "XOAUTH2"}));
  EXPECT_TRUE(caps.size);
  EXPECT_EQ(caps.size_limit, 35882577u);
  EXPECT_TRUE(offers(caps, "XOAUTH2"));
  EXPECT_FALSE(offers(caps, "CRAM-MD5"));
}

TEST(ClientCommands, GreetingLineCarriesNoKeywords) {
  const Capabilities bare = parse_capabilities(reply(250, {"mx.test STARTTLS AUTH PLAIN"}));
  EXPECT_FALSE(bare.starttls);
  EXPECT_TRUE(bare.auth.empty());
}

TEST(ClientCommands, SizeWithoutOrWithBadNumber) {
  const Capabilities caps = parse_capabilities(reply(250, {"mx", "SIZE", "SIZE 12x"}));
  EXPECT_TRUE(caps.size);
  EXPECT_EQ(caps.size_limit, 0u);
}

TEST(ClientCommands, MailFromCarriesOnlyAnnouncedParameters) {
  MailParameters p;
  p.size = 42;
  p.eight_bit = true;
  p.dsn_ret = "HDRS";
  p.dsn_envid = "QQ314159";
  EXPECT_EQ(mail_from_command("a@b.test", p, Capabilities{}), "MAIL FROM:<a@b.test>");
  const Capabilities caps =
      parse_capabilities(reply(250, {"mx", "SIZE 1000", "8BITMIME", "DSN", "SMTPUTF8"}));
  EXPECT_EQ(mail_from_command("a@b.test", p, caps),
            "MAIL FROM:<a@b.test> SIZE=42 BODY=8BITMIME RET=HDRS ENVID=QQ314159");
  p = MailParameters{};
  p.smtputf8 = true;
  EXPECT_EQ(mail_from_command("", p, caps), "MAIL FROM:<> SMTPUTF8");
}

TEST(ClientCommands, RcptToCarriesDsnOnlyWhenAnnounced) {
  const Recipient r{"c@d.test", "SUCCESS,FAILURE", "rfc822;c@d.test"};
  EXPECT_EQ(rcpt_to_command(r, Capabilities{}), "RCPT TO:<c@d.test>");
  const Capabilities caps = parse_capabilities(reply(250, {"mx", "DSN"}));
  EXPECT_EQ(rcpt_to_command(r, caps),
            "RCPT TO:<c@d.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@d.test");
}

TEST(ClientCommands, AuthPlainInitialResponse) {
  const std::string cmd = auth_plain_command("tim", "tanstaaftanstaaf");
  ASSERT_TRUE(cmd.starts_with("AUTH PLAIN "));
  // RFC 4616 §4 example: empty authzid, NUL, authcid, NUL, password.
  EXPECT_EQ(cmd.substr(11), sasl::base64_encode(std::string("\0tim\0tanstaaftanstaaf", 21)));
  EXPECT_EQ(cmd, "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
}

}  // namespace
}  // namespace postern::smtp::client
