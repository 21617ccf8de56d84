// Reply construction from a code and an enhanced status (RFC 3463) and the
// EHLO capability decisions (RFC 3207, RFC 4954).
#include "smtp/replies.hpp"

#include <gtest/gtest.h>

#include "smtp/capabilities.hpp"

namespace postern::smtp {
namespace {

TEST(Replies, EnhancedClassFollowsTheCode) {
  EXPECT_EQ(enhanced(250, Status::destination_valid), "2.1.5");
  EXPECT_EQ(enhanced(452, Status::too_many_recipients), "4.5.3");
  EXPECT_EQ(enhanced(538, Status::encryption_required), "5.7.11");
  EXPECT_EQ(enhanced(220, Status::none), "");
  EXPECT_EQ(make_reply(550, Status::bad_mailbox, "x").render(), "550 5.1.1 x\r\n");
}

TEST(Replies, ContractTexts) {
  // The strings the end-to-end tests and operators rely on.
  EXPECT_EQ(replies::banner("mx.example").render(), "220 mx.example ESMTP postern\r\n");
  EXPECT_EQ(replies::queued("Q1").render(), "250 2.0.0 Ok: queued as Q1\r\n");
  EXPECT_EQ(replies::start_data().render(), "354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(replies::auth_challenge("").render(), "334 \r\n");
  EXPECT_EQ(replies::user_unknown("a@b").render(),
            "550 5.1.1 <a@b>: Recipient address rejected: User unknown\r\n");
  EXPECT_EQ(replies::relay_denied("a@b").render(), "554 5.7.1 <a@b>: Relay access denied\r\n");
  EXPECT_EQ(replies::too_many_errors("mx").render(), "421 4.7.0 mx Error: too many errors\r\n");
  EXPECT_EQ(replies::timeout("mx").render(), "421 4.4.2 mx Error: timeout exceeded\r\n");
  EXPECT_EQ(replies::storage_failure().render(), "452 4.3.1 Insufficient system storage\r\n");
  EXPECT_EQ(replies::ehlo({"mx", "PIPELINING"}).render(), "250-mx\r\n250 PIPELINING\r\n");
}

SessionSettings listener(Role role, TlsMode tls, bool insecure = false) {
  SessionSettings s;
  s.hostname = "mx.example";
  s.role = role;
  s.tls = tls;
  s.insecure_auth = insecure;
  s.limits.max_message_size = 1234;
  return s;
}

TEST(Capabilities, StarttlsOnlyOnStarttlsModesBeforeTlsWithACertificate) {
  EXPECT_TRUE(starttls_offered(listener(Role::relay, TlsMode::starttls), false));
  EXPECT_TRUE(starttls_offered(listener(Role::relay, TlsMode::starttls_required), false));
  EXPECT_FALSE(starttls_offered(listener(Role::relay, TlsMode::starttls), true));
  EXPECT_FALSE(starttls_offered(listener(Role::relay, TlsMode::none), false));
  EXPECT_FALSE(starttls_offered(listener(Role::relay, TlsMode::implicit), true));
  auto no_cert = listener(Role::relay, TlsMode::starttls);
  no_cert.tls_available = false;
  EXPECT_FALSE(starttls_offered(no_cert, false));
}

TEST(Capabilities, AuthOnlyOnSubmissionInsideTlsOrWhenInsecure) {
  EXPECT_TRUE(auth_offered(listener(Role::submission, TlsMode::starttls), true));
  EXPECT_TRUE(auth_offered(listener(Role::submission, TlsMode::implicit), true));
  EXPECT_FALSE(auth_offered(listener(Role::submission, TlsMode::starttls), false));
  EXPECT_TRUE(auth_offered(listener(Role::submission, TlsMode::starttls, true), false));
  EXPECT_TRUE(auth_offered(listener(Role::submission, TlsMode::none, true), false));
  // starttls-required refuses AUTH before TLS even when insecure is set.
  EXPECT_FALSE(auth_offered(listener(Role::submission, TlsMode::starttls_required, true), false));
  EXPECT_FALSE(auth_offered(listener(Role::relay, TlsMode::starttls), true));
  EXPECT_FALSE(auth_offered(listener(Role::relay, TlsMode::none, true), false));
}

TEST(Capabilities, EhloLinesInOrder) {
  EXPECT_EQ(
      ehlo_lines(listener(Role::submission, TlsMode::starttls), false),
      (std::vector<std::string>{"mx.example", "PIPELINING", "SIZE 1234", "8BITMIME",
                                "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", "DSN", "STARTTLS"}));
  EXPECT_EQ(ehlo_lines(listener(Role::submission, TlsMode::starttls), true).back(),
            "AUTH PLAIN LOGIN");
}

}  // namespace
}  // namespace postern::smtp
