// The walker against scripted servers on loopback: each diagnosis that needs
// no TLS, the stop at the first broken step, and the secrets that must never
// show (transcript, report, JSON).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "probe/probe.hpp"
#include "probe/report.hpp"
#include "sasl/sasl.hpp"
#include "walk_script_server.hpp"

namespace postern::probe {
namespace {

using test_support::ScriptServer;
using namespace std::chrono_literals;

constexpr const char* kGreeting = "220 fake.test ESMTP\r\n";
constexpr const char* kPassword = "s3cret-Pa55word";

// A plaintext submission server with AUTH; `auth_reply` answers the
// credentials, `rcpt_reply` every RCPT.
ScriptServer::Answer submission(std::string auth_reply, std::string rcpt_reply = "250 2.1.5 Ok\r\n",
                                std::string ehlo_extra = "250-AUTH PLAIN LOGIN\r\n") {
  return [=](const std::string& line) -> std::string {
    if (line.starts_with("EHLO")) return "250-fake.test\r\n" + ehlo_extra + "250 SIZE 1000\r\n";
    if (line == "AUTH LOGIN") return "334 VXNlcm5hbWU6\r\n";
    if (line.starts_with("AUTH PLAIN")) return auth_reply;
    if (line.starts_with("MAIL")) return "250 2.1.0 Ok\r\n";
    if (line.starts_with("RCPT")) return rcpt_reply;
    if (line == "DATA") return "354 go ahead\r\n";
    if (line == ".") return "250 2.0.0 Ok: queued as 4Xk2Lm0Bz1\r\n";
    if (line == "QUIT") return "221 2.0.0 Bye\r\n";
    if (line.starts_with("From:") || line.empty() || line == "hello") return "";
    return "";
  };
}

ProbeOptions options_for(const ScriptServer& server) {
  ProbeOptions o;
  o.host = "127.0.0.1";
  o.port = server.port();
  o.tls = TlsChoice::none;
  o.timeout = 2000ms;
  o.helo_name = "client.test";
  return o;
}

TEST(WalkSession, HappyPathPlaintextWithAuthMailRcptAndData) {
  ScriptServer server(kGreeting, submission("235 2.7.0 Authentication successful\r\n"));
  ASSERT_TRUE(server.ok());
  ProbeOptions o = options_for(server);
  o.user = "alice@example.test";
  o.password = kPassword;
  o.mail_from = "alice@example.test";
  o.rcpt_to = {"bob@example.test"};
  o.message = "From: alice@example.test\nSubject: hi\n\nhello\n";
  const ProbeResult r = run_probe(o);
  EXPECT_TRUE(r.ok()) << r.explanation;
  EXPECT_EQ(r.tls_found, TlsFound::plaintext);
  EXPECT_EQ(r.queue_id, "4Xk2Lm0Bz1");
  EXPECT_EQ(r.auth_mechanisms, (std::vector<std::string>{"PLAIN", "LOGIN"}));
  ASSERT_TRUE(r.size_limit.has_value());
  EXPECT_EQ(*r.size_limit, 1000u);
  std::vector<Stage> stages;
  for (const StepResult& s : r.steps) stages.push_back(s.stage);
  EXPECT_EQ(stages, (std::vector<Stage>{Stage::dns, Stage::connect, Stage::banner, Stage::ehlo,
                                        Stage::auth, Stage::mail, Stage::rcpt, Stage::data}));
  EXPECT_EQ(exit_status(r.diagnosis), 0);
}

TEST(WalkSession, PasswordNeverInTranscriptReportOrJsonWithPlain) {
  ScriptServer server(kGreeting, submission("535 5.7.8 Authentication credentials invalid\r\n"));
  ProbeOptions o = options_for(server);
  o.user = "alice@example.test";
  o.password = kPassword;
  std::vector<std::string> shown;
  o.transcript = [&](const TranscriptLine& l) { shown.push_back(l.text); };
  const ProbeResult r = run_probe(o);
  EXPECT_EQ(r.diagnosis, Diagnosis::auth_failed);
  EXPECT_EQ(r.failed_stage, Stage::auth);
  EXPECT_EQ(exit_status(r.diagnosis), 7);
  std::string plain("\0alice@example.test\0", 20);
  plain += kPassword;
  const std::string b64 = sasl::base64_encode(plain);
  // It did go over the wire...
  bool sent = false;
  for (const std::string& l : server.lines()) sent = sent || l == "AUTH PLAIN " + b64;
  EXPECT_TRUE(sent);
  // ...and shows nowhere.
  bool masked = false;
  for (const std::string& l : shown) {
    EXPECT_EQ(l.find(kPassword), std::string::npos) << l;
    EXPECT_EQ(l.find(b64), std::string::npos) << l;
    masked = masked || l == "AUTH PLAIN ****";
  }
  EXPECT_TRUE(masked);
  for (const std::string& out : {render_text(r, false), render_json(r, "probe")}) {
    EXPECT_EQ(out.find(kPassword), std::string::npos);
    EXPECT_EQ(out.find(b64), std::string::npos);
  }
  // 535 names the mechanisms offered.
  EXPECT_NE(r.explanation.find("PLAIN LOGIN"), std::string::npos) << r.explanation;
  EXPECT_EQ(r.server_reply, "535 5.7.8 Authentication credentials invalid");
}

TEST(WalkSession, LoginContinuationLinesAreMasked) {
  std::vector<std::string> shown;
  ScriptServer server(kGreeting, [](const std::string& line) -> std::string {
    if (line.starts_with("EHLO")) return "250-fake.test\r\n250 AUTH LOGIN\r\n";
    if (line == "AUTH LOGIN") return "334 VXNlcm5hbWU6\r\n";
    if (line == sasl::base64_encode("alice@example.test")) return "334 UGFzc3dvcmQ6\r\n";
    if (line == "QUIT") return "221 Bye\r\n";
    return "535 5.7.8 no\r\n";
  });
  ProbeOptions o = options_for(server);
  o.user = "alice@example.test";
  o.password = kPassword;
  o.transcript = [&](const TranscriptLine& l) { shown.push_back(l.text); };
  const ProbeResult r = run_probe(o);
  EXPECT_EQ(r.diagnosis, Diagnosis::auth_failed);
  const std::string b64 = sasl::base64_encode(kPassword);
  int stars = 0;
  for (const std::string& l : shown) {
    EXPECT_EQ(l.find(b64), std::string::npos) << l;
    EXPECT_EQ(l.find(kPassword), std::string::npos) << l;
    if (l == "****") ++stars;
  }
  EXPECT_EQ(stars, 2);
}

TEST(WalkSession, RelayDeniedStopsAtRcptWithTheServersText) {
  ScriptServer server(kGreeting,
                      submission("", "554 5.7.1 <x@elsewhere.test>: Relay access denied\r\n"));
  ProbeOptions o = options_for(server);
  o.mail_from = "someone@outside.test";
  o.rcpt_to = {"x@elsewhere.test", "never@asked.test"};
  const ProbeResult r = run_probe(o);
  EXPECT_EQ(r.diagnosis, Diagnosis::relay_denied);
  EXPECT_EQ(r.failed_stage, Stage::rcpt);
  EXPECT_EQ(exit_status(r.diagnosis), 8);
  EXPECT_NE(r.explanation.find("Relay access denied"), std::string::npos);
  for (const std::string& l : server.lines()) EXPECT_EQ(l.find("never@"), std::string::npos);
}

TEST(WalkSession, AuthHiddenBeforeStarttlsIsNamed) {
  ScriptServer server(kGreeting, submission("", "", "250-STARTTLS\r\n"));
  ProbeOptions o = options_for(server);
  o.user = "alice@example.test";
  o.password = kPassword;
  const ProbeResult r = run_probe(o);
  EXPECT_EQ(r.diagnosis, Diagnosis::auth_not_offered_before_tls);
  EXPECT_EQ(r.failed_stage, Stage::auth);
  EXPECT_NE(r.advice.find("--tls starttls"), std::string::npos);
  for (const std::string& l : server.lines()) EXPECT_FALSE(l.starts_with("AUTH"));
}

TEST(WalkSession, StarttlsAskedButNotOffered) {
  ScriptServer server(kGreeting, submission(""));
  ProbeOptions o = options_for(server);
  o.tls = TlsChoice::starttls;
  const ProbeResult r = run_probe(o);
  EXPECT_EQ(r.diagnosis, Diagnosis::starttls_not_offered);
  EXPECT_EQ(r.failed_stage, Stage::tls);
  EXPECT_EQ(exit_status(r.diagnosis), 6);
}

TEST(WalkSession, AutoWithCredentialsRefusesPlaintextWithoutStarttls) {
  ScriptServer server(kGreeting, submission("235 ok\r\n"));
  ProbeOptions o = options_for(server);
  o.tls = TlsChoice::automatic;
  o.user = "alice@example.test";
  o.password = kPassword;
  const ProbeResult r = run_probe(o);
  EXPECT_EQ(r.diagnosis, Diagnosis::starttls_not_offered);
  EXPECT_EQ(r.tls_found, TlsFound::plaintext);
  for (const std::string& l : server.lines()) EXPECT_FALSE(l.starts_with("AUTH"));
}

TEST(WalkSession, TlsBytesWherePlaintextWasExpected) {
  // A TLS alert record (RFC 8446 §6): what some implicit-TLS servers send
  // to a client that starts with plaintext.
  ScriptServer server(std::string("\x15\x03\x03\x00\x02\x02\x32", 7),
                      [](const std::string&) { return std::string(); });
  ProbeOptions o = options_for(server);
  o.tls = TlsChoice::starttls;
  const ProbeResult r = run_probe(o);
  EXPECT_EQ(r.diagnosis, Diagnosis::expects_implicit_tls);
  EXPECT_EQ(r.failed_stage, Stage::banner);
  EXPECT_NE(r.advice.find("--tls implicit"), std::string::npos);
  EXPECT_EQ(exit_status(r.diagnosis), 5);
}

TEST(WalkSession, ImplicitTlsOnAPlaintextStarttlsPort) {
  ScriptServer server(kGreeting, submission("", "", "250-STARTTLS\r\n"));
  ProbeOptions o = options_for(server);
  o.tls = TlsChoice::implicit;
  const ProbeResult r = run_probe(o);
  EXPECT_EQ(r.diagnosis, Diagnosis::expects_plaintext) << r.steps.back().detail;
  EXPECT_EQ(r.failed_stage, Stage::tls);
  EXPECT_EQ(r.tls_found, TlsFound::starttls);
  EXPECT_NE(r.advice.find("--tls starttls"), std::string::npos);
}

TEST(WalkSession, ImplicitTlsOnAPlaintextPortWithoutStarttls) {
  ScriptServer server(kGreeting, submission(""));
  ProbeOptions o = options_for(server);
  o.tls = TlsChoice::implicit;
  const ProbeResult r = run_probe(o);
  EXPECT_EQ(r.diagnosis, Diagnosis::expects_plaintext);
  EXPECT_EQ(r.tls_found, TlsFound::plaintext);
  EXPECT_NE(r.advice.find("--tls none"), std::string::npos);
}

TEST(WalkSession, BusyGreetingIsServerBusy) {
  ScriptServer server("421 4.7.0 too many connections\r\n",
                      [](const std::string&) { return std::string(); });
  const ProbeResult r = run_probe(options_for(server));
  EXPECT_EQ(r.diagnosis, Diagnosis::server_busy);
  EXPECT_EQ(r.server_reply, "421 4.7.0 too many connections");
}

TEST(WalkSession, MessageRefusedAfterData) {
  ScriptServer server(kGreeting, [](const std::string& line) -> std::string {
    if (line.starts_with("EHLO")) return "250-fake.test\r\n250 8BITMIME\r\n";
    if (line.starts_with("MAIL") || line.starts_with("RCPT")) return "250 ok\r\n";
    if (line == "DATA") return "354 go\r\n";
    if (line == ".") return "554 5.7.1 Message rejected as spam\r\n";
    if (line == "QUIT") return "221 bye\r\n";
    return "";
  });
  ProbeOptions o = options_for(server);
  o.mail_from = "a@b.test";
  o.rcpt_to = {"c@d.test"};
  o.message = "Subject: caf\xc3\xa9\n\n.leading dot\n";
  const ProbeResult r = run_probe(o);
  EXPECT_EQ(r.diagnosis, Diagnosis::message_rejected);
  EXPECT_EQ(r.failed_stage, Stage::data);
  EXPECT_EQ(exit_status(r.diagnosis), 9);
  EXPECT_EQ(r.server_reply, "554 5.7.1 Message rejected as spam");
  EXPECT_TRUE(r.queue_id.empty());
  const std::vector<std::string> lines = server.lines();
  // 8-bit body announced (RFC 6152), the leading dot doubled (RFC 5321 §4.5.2).
  EXPECT_NE(std::find(lines.begin(), lines.end(), "MAIL FROM:<a@b.test> BODY=8BITMIME"),
            lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(), "..leading dot"), lines.end());
}

TEST(WalkSession, GreylistedRecipientIsTemporary) {
  ScriptServer server(kGreeting, submission("", "450 4.2.0 Greylisted, try again later\r\n"));
  ProbeOptions o = options_for(server);
  o.rcpt_to = {"c@d.test"};
  o.user = std::nullopt;
  const ProbeResult r = run_probe(o);
  EXPECT_EQ(r.diagnosis, Diagnosis::temporary_rejection);
  EXPECT_EQ(r.failed_stage, Stage::rcpt);
  EXPECT_EQ(exit_status(r.diagnosis), 10);
  const std::vector<std::string> lines = server.lines();
  EXPECT_NE(std::find(lines.begin(), lines.end(), "MAIL FROM:<>"), lines.end());
}

TEST(WalkSession, ToWithoutFromUsesTheUsersAddress) {
  ScriptServer server(kGreeting, submission("235 ok\r\n"));
  ProbeOptions o = options_for(server);
  o.user = "alice@example.test";
  o.password = kPassword;
  o.rcpt_to = {"bob@example.test"};
  EXPECT_TRUE(run_probe(o).ok());
  const std::vector<std::string> lines = server.lines();
  EXPECT_NE(std::find(lines.begin(), lines.end(), "MAIL FROM:<alice@example.test>"), lines.end());
}

TEST(WalkSession, RefusedWhenNothingListens) {
  std::uint16_t port = 0;
  {
    ScriptServer gone(kGreeting, [](const std::string&) { return std::string(); });
    port = gone.port();
  }
  ProbeOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.timeout = 2000ms;
  const ProbeResult r = run_probe(o);
  EXPECT_EQ(r.diagnosis, Diagnosis::connect_refused);
  EXPECT_EQ(r.failed_stage, Stage::connect);
  EXPECT_EQ(exit_status(r.diagnosis), 4);
}

TEST(WalkSession, AddressFamilyFilterOnALiteral) {
  ProbeOptions o;
  o.host = "127.0.0.1";
  o.port = 25;
  o.ipv6_only = true;
  const ProbeResult r = run_probe(o);
  EXPECT_EQ(r.diagnosis, Diagnosis::name_not_found);
  EXPECT_EQ(r.failed_stage, Stage::dns);
  EXPECT_EQ(r.steps.size(), 1u);
}

}  // namespace
}  // namespace postern::probe
