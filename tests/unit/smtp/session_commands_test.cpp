// The command layer of ServerSession: EHLO capabilities per role and TLS
// mode, STARTTLS (discarded pipelining, reset afterwards), the small
// commands, limits on lines and errors, cross-protocol input.
#include <gtest/gtest.h>

#include "smtp/wire_detect.hpp"

#include "unit/smtp/session_harness.hpp"

namespace postern::smtp::test {
namespace {

// The EHLO keywords (without the greeting line), after STARTTLS when asked.
std::vector<std::string> ehlo_keywords(SessionSettings s, bool after_tls) {
  Harness h(s);
  h.start();
  if (after_tls) {
    h.feed("EHLO c\r\nSTARTTLS\r\n");
  }
  h.new_replies();
  h.feed("EHLO client.example\r\n");
  const auto r = h.new_replies();
  EXPECT_EQ(r.size(), 1u);
  std::vector<std::string> keywords;
  if (r.empty()) return keywords;
  std::string_view text = r[0];
  bool first = true;
  while (!text.empty()) {
    const auto eol = text.find("\r\n");
    const std::string line(text.substr(0, eol));
    text.remove_prefix(eol + 2);
    EXPECT_TRUE(line.starts_with(text.empty() ? "250 " : "250-")) << line;
    if (!first) keywords.push_back(line.substr(4));
    first = false;
  }
  return keywords;
}

bool has(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(SessionEhlo, CommonKeywords) {
  auto s = relay();
  s.limits.max_message_size = 12345;
  const auto k = ehlo_keywords(s, false);
  for (const char* kw : {"PIPELINING", "SIZE 12345", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8",
                         "CHUNKING", "DSN"}) {
    EXPECT_TRUE(has(k, kw)) << kw;
  }
}

TEST(SessionEhlo, StarttlsOnlyBeforeTlsOnStarttlsModes) {
  EXPECT_FALSE(has(ehlo_keywords(relay(TlsMode::none), false), "STARTTLS"));
  EXPECT_FALSE(has(ehlo_keywords(relay(TlsMode::implicit), false), "STARTTLS"));
  EXPECT_TRUE(has(ehlo_keywords(relay(TlsMode::starttls), false), "STARTTLS"));
  EXPECT_FALSE(has(ehlo_keywords(relay(TlsMode::starttls), true), "STARTTLS"));
  EXPECT_TRUE(has(ehlo_keywords(submission(TlsMode::starttls_required), false), "STARTTLS"));
  EXPECT_FALSE(has(ehlo_keywords(submission(TlsMode::starttls_required), true), "STARTTLS"));
  auto no_cert = relay(TlsMode::starttls);
  no_cert.tls_available = false;
  EXPECT_FALSE(has(ehlo_keywords(no_cert, false), "STARTTLS"));
}

TEST(SessionEhlo, AuthOnlyOnSubmissionAfterTlsOrInsecure) {
  const std::string auth = "AUTH PLAIN LOGIN";
  EXPECT_FALSE(has(ehlo_keywords(submission(TlsMode::starttls_required), false), auth));
  EXPECT_TRUE(has(ehlo_keywords(submission(TlsMode::starttls_required), true), auth));
  EXPECT_FALSE(has(ehlo_keywords(submission(TlsMode::starttls), false), auth));
  EXPECT_TRUE(has(ehlo_keywords(submission(TlsMode::starttls), true), auth));
  EXPECT_TRUE(has(ehlo_keywords(submission(TlsMode::implicit), false), auth));
  EXPECT_FALSE(has(ehlo_keywords(submission(TlsMode::none), false), auth));
  auto insecure = submission(TlsMode::none);
  insecure.insecure_auth = true;
  EXPECT_TRUE(has(ehlo_keywords(insecure, false), auth));
  EXPECT_FALSE(has(ehlo_keywords(relay(TlsMode::starttls), true), auth));
  EXPECT_FALSE(has(ehlo_keywords(relay(TlsMode::implicit), false), auth));
  auto insecure_relay = relay(TlsMode::none);
  insecure_relay.insecure_auth = true;
  EXPECT_FALSE(has(ehlo_keywords(insecure_relay, false), auth));
}

TEST(SessionEhlo, GreetingHeloAndSyntax) {
  expect_dialogue(relay(),
                  {"S: 220 mx.example.com ESMTP postern", "C: EHLO", "S: 501 5.5.4", "C: HELO",
                   "S: 501 5.5.4", "C: HELO client.example", "S: 250 mx.example.com",
                   "C: EHLO client.example", "S: 250 mx.example.com"});
}

TEST(SessionStarttls, RequiredBeforeAuthMailRcptDataBdat) {
  expect_dialogue(submission(TlsMode::starttls_required),
                  {"C: EHLO c",
                   "S: 250",
                   "C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==",
                   "S: 530 5.7.0 Must issue a STARTTLS command first",
                   "C: MAIL FROM:<a@b.example>",
                   "S: 530 5.7.0",
                   "C: RCPT TO:<alice@example.com>",
                   "S: 530 5.7.0",
                   "C: DATA",
                   "S: 530 5.7.0",
                   "C: BDAT 0 LAST",
                   "S: 530 5.7.0",
                   "C: NOOP",
                   "S: 250 2.0.0",
                   "C: RSET",
                   "S: 250 2.0.0",
                   "C: VRFY alice",
                   "S: 252 2.5.2",
                   "C: QUIT",
                   "S: 221 2.0.0"});
  expect_dialogue(relay(TlsMode::starttls_required),
                  {"C: EHLO c", "S: 250", "C: MAIL FROM:<a@b.example>", "S: 530 5.7.0",
                   "C: STARTTLS", "S: 220 2.0.0 Ready to start TLS", "C: EHLO c", "S: 250",
                   "C: MAIL FROM:<a@b.example>", "S: 250 2.1.0"});
}

TEST(SessionStarttls, PipelinedBytesAreDiscarded) {
  Harness h(relay(TlsMode::starttls));
  h.start();
  h.feed("EHLO c\r\n");
  h.new_replies();
  h.feed("STARTTLS\r\nNOOP\r\n");
  const auto r = h.new_replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].starts_with("220 2.0.0 Ready to start TLS"));
  ASSERT_EQ(h.outcome().steps.size(), 1u);
  EXPECT_EQ(h.outcome().steps[0].kind, StepKind::tls);
  EXPECT_EQ(h.session().buffered(), 0u);
  // Inside TLS the NOOP never runs; the client starts over.
  h.feed("MAIL FROM:<a@b.example>\r\n");
  const auto after = h.new_replies();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_TRUE(after[0].starts_with("503 5.5.1")) << after[0];
}

TEST(SessionStarttls, BytesFedWhileTheHandshakeIsPendingAreDiscarded) {
  Harness h(relay(TlsMode::starttls));
  ServerSession& s = h.session();
  s.start();
  s.feed("EHLO c\r\nSTARTTLS\r\n");
  (void)s.take_actions();
  EXPECT_FALSE(s.wants_input());
  s.feed("NOOP\r\n");  // a driver that read too far
  s.tls_established(TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256"});
  for (const auto& a : s.take_actions()) {
    EXPECT_FALSE(std::holds_alternative<SendReply>(a)) << std::get<SendReply>(a).bytes;
  }
  EXPECT_EQ(s.buffered(), 0u);
}

TEST(SessionStarttls, StateIsResetAfterTls) {
  expect_dialogue(relay(TlsMode::starttls),
                  {"C: EHLO c", "S: 250", "C: MAIL FROM:<a@b.example>", "S: 250 2.1.0",
                   "C: STARTTLS", "S: 220 2.0.0", "C: MAIL FROM:<a@b.example>", "S: 503 5.5.1",
                   "C: EHLO c", "S: 250", "C: RCPT TO:<alice@example.com>", "S: 503 5.5.1",
                   "C: STARTTLS", "S: 503 5.5.1", "C: QUIT", "S: 221"});
}

TEST(SessionStarttls, NotOfferedOrUnavailable) {
  expect_dialogue(relay(TlsMode::none), {"C: EHLO c", "S: 250", "C: STARTTLS", "S: 502 5.5.1"});
  expect_dialogue(relay(TlsMode::implicit), {"C: EHLO c", "S: 250", "C: STARTTLS", "S: 503 5.5.1"});
  auto no_cert = relay(TlsMode::starttls);
  no_cert.tls_available = false;
  expect_dialogue(no_cert, {"C: EHLO c", "S: 250", "C: STARTTLS", "S: 454 4.7.0", "C: STARTTLS now",
                            "S: 501 5.5.4"});
}

TEST(SessionStarttls, HandshakeFailureClosesSilently) {
  Script fail;
  fail.fail_step = 0;
  const auto o = expect_dialogue(
      relay(TlsMode::starttls),
      {"C: EHLO c", "S: 250", "C: STARTTLS", "S: 220 2.0.0", "C: EHLO c", "C: QUIT"}, fail,
      Variants{true, false});
  ASSERT_EQ(o.close_reasons.size(), 1u);
  EXPECT_EQ(o.close_reasons[0], "tls handshake failed");
}

TEST(SessionCommands, SmallCommands) {
  expect_dialogue(relay(), {"C: EHLO c",
                            "S: 250",
                            "C: VRFY alice",
                            "S: 252 2.5.2",
                            "C: EXPN staff",
                            "S: 502 5.5.1",
                            "C: HELP",
                            "S: 214 2.0.0",
                            "C: NOOP",
                            "S: 250 2.0.0 Ok",
                            "C: noop with args",
                            "S: 250 2.0.0",
                            "C: MAIL FROM:<a@b.example>",
                            "S: 250 2.1.0",
                            "C: RSET",
                            "S: 250 2.0.0 Ok",
                            "C: RCPT TO:<alice@example.com>",
                            "S: 503 5.5.1",
                            "C: FOO",
                            "S: 500 5.5.1",
                            "C: XCLIENT ADDR=1.2.3.4",
                            "S: 500 5.5.1",
                            "C: QUIT",
                            "S: 221 2.0.0 Bye",
                            "C: NOOP"});
}

TEST(SessionCommands, QuitCloses) {
  const auto o = expect_dialogue(relay(), {"C: QUIT", "S: 221 2.0.0"});
  ASSERT_EQ(o.close_reasons.size(), 1u);
  EXPECT_EQ(o.close_reasons[0], "quit");
}

TEST(SessionCommands, PipelinedCommandsAnswerInOrder) {
  expect_dialogue(
      relay(),
      {"C: EHLO c", "S: 250", "C: MAIL FROM:<a@b.example>", "C: RCPT TO:<alice@example.com>",
       "C: RCPT TO:<nobody@example.com>", "C: RCPT TO:<bob@example.com>", "C: DATA", "S: 250 2.1.0",
       "S: 250 2.1.5", "S: 550 5.1.1", "S: 250 2.1.5", "S: 354", "C: Subject: x", "C: ", "C: hi",
       "C: .", "C: QUIT", "S: 250 2.0.0 Ok: queued as Q1", "S: 221 2.0.0"});
}

TEST(SessionCommands, NulInCommand) {
  expect_dialogue(relay(), {std::string("R: NO\0OP\r\n", 10), "S: 500 5.5", "C: NOOP", "S: 250"});
}

TEST(SessionLimits, CommandLineAtTheLimitAndOneOver) {
  const std::string at_limit = "NOOP " + std::string(kMaxCommandLine - 5, 'x');
  ASSERT_EQ(at_limit.size(), kMaxCommandLine);
  expect_dialogue(relay(),
                  {"C: " + at_limit, "S: 250 2.0.0", "C: " + at_limit + "x",
                   "S: 500 5.5.2 Error: line too long", "C: NOOP", "S: 250 2.0.0"},
                  {}, Variants{true, false});
  // The same with bare LF line ends.
  expect_dialogue(relay(),
                  {"R: " + at_limit + "\n", "S: 250 2.0.0", "R: " + at_limit + "x\n",
                   "S: 500 5.5.2", "C: NOOP", "S: 250 2.0.0"},
                  {}, Variants{true, false});
}

TEST(SessionLimits, EndlessLineStaysBounded) {
  Harness h(relay());
  h.start();
  h.new_replies();
  const std::string chunk(1000, 'A');
  for (int i = 0; i < 200; ++i) {
    h.feed(chunk);
    EXPECT_LE(h.session().buffered(), kMaxCommandLine + 1);
  }
  auto r = h.new_replies();
  ASSERT_EQ(r.size(), 1u);  // one complaint for one line, however long
  EXPECT_TRUE(r[0].starts_with("500 5.5.2"));
  h.feed("\r\nNOOP\r\n");
  r = h.new_replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].starts_with("250 2.0.0"));
  EXPECT_FALSE(h.closed());
}

TEST(SessionLimits, TooManyErrors) {
  auto s = relay();
  s.limits.max_errors = 3;
  const auto o = expect_dialogue(
      s, {"C: FOO", "S: 500 5.5.1", "C: BAR", "S: 500 5.5.1", "C: NOOP", "S: 250", "C: BAZ",
          "S: 500 5.5.1", "S: 421 4.7.0 mx.example.com Error: too many errors", "C: NOOP"});
  ASSERT_EQ(o.close_reasons.size(), 1u);
  EXPECT_EQ(o.close_reasons[0], "too many errors");
}

TEST(SessionLimits, TimeoutSays421) {
  Harness h(relay());
  h.start();
  h.feed("EHLO c\r\nMAIL FROM:<a@b.example>\r\n");
  h.new_replies();
  h.timeout();
  const auto r = h.new_replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].starts_with("421 4.4.2 mx.example.com Error: timeout exceeded")) << r[0];
  EXPECT_TRUE(h.closed());
  h.timeout();
  h.feed("NOOP\r\n");
  EXPECT_TRUE(h.new_replies().empty());
  check_invariants(h.outcome());
}

TEST(SessionLimits, RefusedSession) {
  auto s = relay();
  s.refuse_with = "Too many connections from your address";
  const auto o =
      expect_dialogue(s, {"S: 421 4.7.0 Too many connections from your address", "C: EHLO c"});
  EXPECT_EQ(o.close_reasons.size(), 1u);
}

TEST(SessionCrossProtocol, HttpRequestIsRefused) {
  for (const char* verb : {"GET", "POST", "CONNECT", "HEAD"}) {
    const auto o = expect_dialogue(
        relay(), {std::string("C: ") + verb + " / HTTP/1.1", "C: Host: x", "C: ", "S: 421 4.7.0"});
    EXPECT_EQ(o.close_reasons.size(), 1u) << verb;
  }
}

TEST(SessionCrossProtocol, HttpVerbLaterIsAnUnknownCommand) {
  expect_dialogue(relay(),
                  {"C: NOOP", "S: 250", "C: GET / HTTP/1.1", "S: 500 5.5.1", "C: NOOP", "S: 250"});
}

TEST(SessionCrossProtocol, TlsClientHelloOnPlaintextPort) {
  const std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  for (auto mode : {TlsMode::none, TlsMode::starttls, TlsMode::starttls_required}) {
    const auto o = expect_dialogue(relay(mode), {"R: " + hello});
    ASSERT_EQ(o.close_reasons.size(), 1u);
    ASSERT_FALSE(o.logs.empty());
    EXPECT_NE(o.logs.back().fields.find("implicit TLS"), std::string::npos);
  }
  EXPECT_TRUE(looks_like_tls_client_hello(hello));  // the detector the probe uses too
}

TEST(SessionCrossProtocol, ClientHelloBytesLaterAreJustGarbage) {
  expect_dialogue(relay(), {"C: NOOP", "S: 250", "R: \x16\x03\x01\r\n", "S: 500 5.5.1"});
}

}  // namespace
}  // namespace postern::smtp::test
