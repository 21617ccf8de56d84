// AUTH in ServerSession (RFC 4954, SASL PLAIN RFC 4616, LOGIN): where it is
// allowed, both mechanisms, cancel, bad input, throttling, and that the
// password never leaves the session except towards VerifyCredentials.
#include <gtest/gtest.h>

#include "unit/smtp/session_harness.hpp"

namespace postern::smtp::test {
namespace {

void expect_password_hidden(const Outcome& o, std::string_view password) {
  for (const auto& l : o.logs) {
    EXPECT_EQ(l.fields.find(password), std::string::npos) << l.event << " " << l.fields;
  }
  for (const auto& r : o.replies) EXPECT_EQ(r.find(password), std::string::npos) << r;
}

TEST(SessionAuth, PlainWithInitialResponse) {
  const auto o = expect_dialogue(submission(), cat(kStartTls, kAuthAlice));
  ASSERT_EQ(o.verifies.size(), 1u);
  EXPECT_EQ(o.verifies[0].mechanism, "PLAIN");
  EXPECT_EQ(o.verifies[0].user, "alice@example.com");
  EXPECT_EQ(o.verifies[0].password, "secret");
  expect_password_hidden(o, "secret");
}

TEST(SessionAuth, PlainWithContinuation) {
  const auto o = expect_dialogue(
      submission(),
      cat(kStartTls, {"C: AUTH PLAIN", "S: 334", "C: AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==",
                      "S: 235 2.7.0 Authentication successful", "C: MAIL FROM:<alice@example.com>",
                      "S: 250 2.1.0"}));
  expect_password_hidden(o, "secret");
}

TEST(SessionAuth, PlainWithMatchingAuthzid) {
  expect_dialogue(
      submission(),
      cat(kStartTls, {"C: AUTH PLAIN YWxpY2VAZXhhbXBsZS5jb20AYWxpY2VAZXhhbXBsZS5jb20Ac2VjcmV0",
                      "S: 235 2.7.0"}));
}

TEST(SessionAuth, PlainAuthzidOtherThanAuthcidIsRefused) {
  const auto o = expect_dialogue(
      submission(),
      cat(kStartTls, {"C: AUTH PLAIN Ym9iQGV4YW1wbGUuY29tAGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==",
                      "S: 535 5.7.8", "C: MAIL FROM:<alice@example.com>", "S: 530 5.7.0"}));
  EXPECT_TRUE(o.verifies.empty());
  expect_password_hidden(o, "secret");
}

TEST(SessionAuth, Login) {
  const auto o = expect_dialogue(
      submission(), cat(kStartTls, {"C: AUTH LOGIN", "S: 334 VXNlcm5hbWU6",
                                    "C: YWxpY2VAZXhhbXBsZS5jb20=", "S: 334 UGFzc3dvcmQ6",
                                    "C: c2VjcmV0", "S: 235 2.7.0"}));
  ASSERT_EQ(o.verifies.size(), 1u);
  EXPECT_EQ(o.verifies[0].mechanism, "LOGIN");
  EXPECT_EQ(o.verifies[0].user, "alice@example.com");
  EXPECT_EQ(o.verifies[0].password, "secret");
  expect_password_hidden(o, "secret");
  expect_password_hidden(o, "c2VjcmV0");
}

TEST(SessionAuth, LoginWithInitialResponse) {
  expect_dialogue(submission(),
                  cat(kStartTls, {"C: AUTH LOGIN YWxpY2VAZXhhbXBsZS5jb20=", "S: 334 UGFzc3dvcmQ6",
                                  "C: c2VjcmV0", "S: 235 2.7.0"}));
}

TEST(SessionAuth, CancelAndBadBase64) {
  expect_dialogue(submission(), cat(kStartTls, {"C: AUTH PLAIN",
                                                "S: 334",
                                                "C: *",
                                                "S: 501 5.7.0",
                                                "C: AUTH LOGIN",
                                                "S: 334 VXNlcm5hbWU6",
                                                "C: *",
                                                "S: 501",
                                                "C: AUTH LOGIN",
                                                "S: 334",
                                                "C: YWxpY2VAZXhhbXBsZS5jb20=",
                                                "S: 334",
                                                "C: *",
                                                "S: 501",
                                                "C: AUTH PLAIN !!!!",
                                                "S: 501 5.5.2",
                                                "C: AUTH PLAIN",
                                                "S: 334",
                                                "C: not base64",
                                                "S: 501 5.5.2",
                                                "C: AUTH LOGIN",
                                                "S: 334",
                                                "C: %%%",
                                                "S: 501 5.5.2",
                                                "C: NOOP",
                                                "S: 250"}));
}

TEST(SessionAuth, WrongPasswordAndUnknownUser) {
  const auto o = expect_dialogue(
      submission(),
      cat(kStartTls,
          {"C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHdyb25n",
           "S: 535 5.7.8 Authentication credentials invalid",
           "C: AUTH PLAIN AG1hbGxvcnlAZXhhbXBsZS5jb20Ac2VjcmV0", "S: 535 5.7.8", "C: AUTH LOGIN",
           "S: 334", "C: YWxpY2VAZXhhbXBsZS5jb20=", "S: 334", "C: d3Jvbmc=", "S: 535 5.7.8",
           "C: MAIL FROM:<alice@example.com>", "S: 530 5.7.0"}));
  expect_password_hidden(o, "wrong");
  expect_password_hidden(o, "secret");
}

TEST(SessionAuth, Throttled) {
  Script script;
  script.throttled = {"alice@example.com"};
  expect_dialogue(submission(),
                  cat(kStartTls, {"C: " + std::string(kAuthAlice[0].substr(3)),
                                  "S: 454 4.7.0 Too many authentication failures"}),
                  script);
}

TEST(SessionAuth, AlreadyAuthenticated) {
  expect_dialogue(submission(),
                  cat(cat(kStartTls, kAuthAlice),
                      {"C: " + std::string(kAuthAlice[0].substr(3)), "S: 503 5.5.1"}));
}

TEST(SessionAuth, NeedsEhloAndMechanism) {
  auto s = submission(TlsMode::implicit);
  expect_dialogue(
      s, {"C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==", "S: 503 5.5.1", "C: HELO c",
          "S: 250", "C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==", "S: 503 5.5.1",
          "C: EHLO c", "S: 250", "C: AUTH CRAM-MD5", "S: 504 5.5.4", "C: AUTH", "S: 501 5.5.4"});
}

TEST(SessionAuth, RefusedOnRelayAndWithoutTls) {
  expect_dialogue(
      relay(TlsMode::starttls),
      cat(kStartTls, {"C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==", "S: 503 5.5.1"}));
  expect_dialogue(submission(TlsMode::starttls),
                  {"C: EHLO c", "S: 250",
                   "C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==", "S: 538 5.7.11"});
  auto insecure = submission(TlsMode::none);
  insecure.insecure_auth = true;
  expect_dialogue(insecure, cat({"C: EHLO c", "S: 250"}, kAuthAlice));
}

TEST(SessionAuth, ImplicitTls) {
  const auto o = expect_dialogue(
      submission(TlsMode::implicit),
      cat(cat({"C: EHLO c", "S: 250"}, kAuthAlice),
          {"C: MAIL FROM:<alice@example.com>", "S: 250", "C: RCPT TO:<x@remote.example>", "S: 250",
           "C: DATA", "S: 354", "C: Subject: hi", "C: ", "C: body", "C: .", "S: 250 2.0.0"}));
  ASSERT_EQ(o.committed_data.size(), 1u);
  EXPECT_NE(o.committed_data[0].find("with ESMTPSA"), std::string::npos);
}

}  // namespace
}  // namespace postern::smtp::test
