// The auth-client dialogue as scripted exchanges with Dovecot 2.3 (the
// server lines are what a real Dovecot 2.3.19 sent, recorded with
// tests/tools/dovecot.py), split at every byte and cut at every byte.
#include "dovecot/auth_client_dialogue.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sasl/sasl.hpp"

namespace postern::dovecot {
namespace {

const std::string kHandshake =
    "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\nSPID\t20557\n"
    "CUID\t3\nCOOKIE\t2f42464f7b78fb949f5d2a738371cc89\nDONE\n";

AuthRequest request(std::string mechanism, std::string user = "carol@example.test",
                    std::string password = "carol-pw-1") {
  AuthRequest r;
  r.mechanism = std::move(mechanism);
  r.user = std::move(user);
  r.password = std::move(password);
  r.client_ip = "192.0.2.7";
  r.local_ip = "127.0.0.1";
  r.secured = true;
  r.request_id = 1;
  r.client_pid = 4242;
  return r;
}

struct Exchange {
  std::string sent;  // everything the client wrote
  AuthVerdict verdict = AuthVerdict::pending;
  std::string user;
  std::string reason;
};

// Feeds `server` in pieces cut at the given offsets, collecting output.
Exchange run(AuthRequest req, const std::string& server, std::vector<std::size_t> cuts = {},
             bool close_at_end = false) {
  AuthClientDialogue d(std::move(req));
  Exchange r;
  r.sent += d.take_output();
  std::size_t at = 0;
  cuts.push_back(server.size());
  for (std::size_t cut : cuts) {
    d.feed(std::string_view(server).substr(at, cut - at));
    r.sent += d.take_output();
    at = cut;
  }
  if (close_at_end) d.peer_closed();
  r.verdict = d.verdict();
  r.user = d.user();
  r.reason = d.reason();
  return r;
}

std::string plain_resp(std::string_view user, std::string_view password) {
  std::string raw;
  raw += '\0';
  raw += user;
  raw += '\0';
  raw += password;
  return sasl::base64_encode(raw);
}

TEST(AuthClientDialogue, PlainOkReturnsDovecotsUserName) {
  const Exchange r =
      run(request("PLAIN", "Carol@Example.Test"), kHandshake + "OK\t1\tuser=carol@example.test\n");
  EXPECT_EQ(r.verdict, AuthVerdict::ok);
  EXPECT_EQ(r.user, "carol@example.test");
  EXPECT_EQ(r.sent,
            "VERSION\t1\t2\nCPID\t4242\n"
            "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=192.0.2.7\tsecured\tresp=" +
                plain_resp("Carol@Example.Test", "carol-pw-1") + "\n");
}

TEST(AuthClientDialogue, AuthWaitsForDone) {
  AuthClientDialogue d(request("PLAIN"));
  EXPECT_EQ(d.take_output(), "VERSION\t1\t2\nCPID\t4242\n");
  d.feed("VERSION\t1\t2\nMECH\tPLAIN\tplaintext\n");
  EXPECT_EQ(d.take_output(), "");
  d.feed("DONE\n");
  EXPECT_EQ(d.take_output().rfind("AUTH\t1\tPLAIN\t", 0), 0u);
  EXPECT_FALSE(d.done());
}

TEST(AuthClientDialogue, NotSecuredLeavesTheFlagOut) {
  auto req = request("PLAIN");
  req.secured = false;
  const Exchange r = run(req, kHandshake);
  EXPECT_EQ(r.sent.find("secured"), std::string::npos);
}

TEST(AuthClientDialogue, LoginAnswersBothChallenges) {
  const std::string server = kHandshake + "CONT\t1\tVXNlcm5hbWU6\nCONT\t1\tUGFzc3dvcmQ6\n" +
                             "OK\t1\tuser=dave@example.test\n";
  const Exchange r = run(request("LOGIN", "dave@example.test", "dave-pw-2"), server);
  EXPECT_EQ(r.verdict, AuthVerdict::ok);
  EXPECT_EQ(r.user, "dave@example.test");
  EXPECT_EQ(r.sent,
            "VERSION\t1\t2\nCPID\t4242\n"
            "AUTH\t1\tLOGIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=192.0.2.7\tsecured\n"
            "CONT\t1\t" +
                sasl::base64_encode("dave@example.test") + "\nCONT\t1\t" +
                sasl::base64_encode("dave-pw-2") + "\n");
}

TEST(AuthClientDialogue, WrongPasswordIsInvalid) {
  const Exchange r = run(request("PLAIN"), kHandshake + "FAIL\t1\tuser=carol@example.test\n");
  EXPECT_EQ(r.verdict, AuthVerdict::invalid);
}

TEST(AuthClientDialogue, TemporaryFailureIsNeverInvalid) {
  for (const char* line : {"FAIL\t1\ttemp\n", "FAIL\t1\tcode=temp_fail\treason=db down\n"}) {
    const Exchange r = run(request("PLAIN"), kHandshake + line);
    EXPECT_EQ(r.verdict, AuthVerdict::temporary) << line;
  }
}

TEST(AuthClientDialogue, ReasonIsUnescaped) {
  const Exchange r = run(request("PLAIN"), kHandshake + "FAIL\t1\treason=a\x01tb\n");
  EXPECT_EQ(r.verdict, AuthVerdict::invalid);
  EXPECT_EQ(r.reason, "a\tb");
}

TEST(AuthClientDialogue, OtherRequestIdsAndUnknownLinesAreIgnored) {
  const Exchange r = run(request("PLAIN"), kHandshake + "OK\t2\tuser=mallory\nNEWTHING\t1\n" +
                                               "FAIL\t1\tuser=carol@example.test\n");
  EXPECT_EQ(r.verdict, AuthVerdict::invalid);
}

TEST(AuthClientDialogue, MechanismNotOfferedIsTemporary) {
  const Exchange r = run(request("LOGIN"), "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nDONE\n");
  EXPECT_EQ(r.verdict, AuthVerdict::temporary);
  EXPECT_NE(r.reason.find("does not offer LOGIN"), std::string::npos);
  EXPECT_EQ(r.sent.find("AUTH"), std::string::npos);
}

TEST(AuthClientDialogue, WrongMajorVersionOrNotDovecotIsTemporary) {
  EXPECT_EQ(run(request("PLAIN"), "VERSION\t2\t0\n").verdict, AuthVerdict::temporary);
  EXPECT_EQ(run(request("PLAIN"), "220 smtp.example ESMTP\r\n").verdict, AuthVerdict::temporary);
  EXPECT_EQ(run(request("PLAIN"), "+OK POP3\n").verdict, AuthVerdict::temporary);
}

TEST(AuthClientDialogue, CrLfLinesAreAccepted) {
  std::string server = kHandshake + "OK\t1\tuser=carol@example.test\n";
  std::string crlf;
  for (char c : server) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  EXPECT_EQ(run(request("PLAIN"), crlf).verdict, AuthVerdict::ok);
}

TEST(AuthClientDialogue, UnexpectedContinuationIsTemporary) {
  // PLAIN sent its initial response: a challenge makes no sense.
  EXPECT_EQ(run(request("PLAIN"), kHandshake + "CONT\t1\t\n").verdict, AuthVerdict::temporary);
  // LOGIN has two challenges, not three.
  EXPECT_EQ(run(request("LOGIN"), kHandshake + "CONT\t1\tVXNlcm5hbWU6\nCONT\t1\tUGFzc3dvcmQ6\n" +
                                      "CONT\t1\tTW9yZTo=\n")
                .verdict,
            AuthVerdict::temporary);
}

TEST(AuthClientDialogue, EndlessLineIsTemporary) {
  const Exchange r = run(request("PLAIN"), std::string(LineReader::kMaxLine + 10, 'x'));
  EXPECT_EQ(r.verdict, AuthVerdict::temporary);
}

TEST(AuthClientDialogue, TabsInTheAddressesAreEscaped) {
  auto req = request("PLAIN");
  req.client_ip = "1.2.3.4\tuser=admin";
  const Exchange r = run(req, kHandshake);
  EXPECT_NE(r.sent.find("rip=1.2.3.4\x01tuser=admin"), std::string::npos);
}

// Every exchange, split at every byte, gives the same bytes and verdict.
TEST(AuthClientDialogue, SplitAtEveryByte) {
  struct Case {
    std::string mechanism;
    std::string server;
    AuthVerdict verdict;
  };
  const std::vector<Case> cases = {
      {"PLAIN", kHandshake + "OK\t1\tuser=carol@example.test\n", AuthVerdict::ok},
      {"PLAIN", kHandshake + "FAIL\t1\tuser=carol@example.test\n", AuthVerdict::invalid},
      {"PLAIN", kHandshake + "FAIL\t1\ttemp\n", AuthVerdict::temporary},
      {"LOGIN", kHandshake + "CONT\t1\tVXNlcm5hbWU6\nCONT\t1\tUGFzc3dvcmQ6\nOK\t1\tuser=c\n",
       AuthVerdict::ok},
  };
  for (const auto& c : cases) {
    const Exchange whole = run(request(c.mechanism), c.server);
    ASSERT_EQ(whole.verdict, c.verdict);
    for (std::size_t cut = 0; cut <= c.server.size(); ++cut) {
      const Exchange split = run(request(c.mechanism), c.server, {cut});
      EXPECT_EQ(split.verdict, whole.verdict) << c.mechanism << " cut at " << cut;
      EXPECT_EQ(split.sent, whole.sent) << c.mechanism << " cut at " << cut;
      EXPECT_EQ(split.user, whole.user);
    }
    // One byte at a time.
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < c.server.size(); ++i) every.push_back(i);
    const Exchange bytewise = run(request(c.mechanism), c.server, every);
    EXPECT_EQ(bytewise.verdict, whole.verdict);
    EXPECT_EQ(bytewise.sent, whole.sent);
  }
}

// Dovecot goes away at every byte of every exchange: the answer is
// "temporary" (454), never "ok" and never "invalid" (535), unless the
// complete final line had already arrived.
TEST(AuthClientDialogue, ConnectionLostAtEveryStep) {
  const std::string ok_line = "OK\t1\tuser=carol@example.test\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"PLAIN", kHandshake + ok_line},
      {"PLAIN", kHandshake + "FAIL\t1\tuser=carol@example.test\n"},
      {"LOGIN", kHandshake + "CONT\t1\tVXNlcm5hbWU6\nCONT\t1\tUGFzc3dvcmQ6\n" + ok_line},
  };
  for (const auto& [mechanism, server] : cases) {
    for (std::size_t len = 0; len < server.size(); ++len) {
      const Exchange r = run(request(mechanism), server.substr(0, len), {}, true);
      EXPECT_EQ(r.verdict, AuthVerdict::temporary) << mechanism << " closed after " << len;
      EXPECT_FALSE(r.reason.empty());
    }
    const Exchange full = run(request(mechanism), server, {}, true);
    EXPECT_NE(full.verdict, AuthVerdict::temporary);
  }
}

TEST(AuthClientDialogue, PasswordNotSentBeforeDone) {
  AuthClientDialogue d(request("LOGIN", "u", "secret-password"));
  std::string sent = d.take_output();
  d.feed(kHandshake);
  sent += d.take_output();
  d.feed("CONT\t1\tVXNlcm5hbWU6\n");
  sent += d.take_output();
  EXPECT_EQ(sent.find(sasl::base64_encode("secret-password")), std::string::npos);
  d.feed("CONT\t1\tUGFzc3dvcmQ6\n");
  EXPECT_NE(d.take_output().find(sasl::base64_encode("secret-password")), std::string::npos);
}

TEST(Wire, TabEscapeRoundTrip) {
  const std::string raw = std::string("a\tb\nc\rd\x01") + "e";
  EXPECT_EQ(tab_escape(raw),
            "a\x01tb\x01nc\x01rd\x01"
            "1e");
  EXPECT_EQ(tab_unescape(tab_escape(raw)), raw);
}

}  // namespace
}  // namespace postern::dovecot
