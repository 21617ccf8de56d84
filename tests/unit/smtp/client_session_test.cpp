#include "smtp/client_session.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "client_harness.hpp"

namespace postern::smtp::client {
namespace {

using delivery::Outcome;
using namespace test_support;  // Step, ScriptedPeer, DialogueRun, replay, kData

OutgoingMessage message(const std::vector<std::string>& rcpts, std::string_view data = kData) {
  return test_support::outgoing("alice@example.test", rcpts, data);
}

ClientSettings plain_settings() {
  ClientSettings s;
  s.helo_name = "mx.example.test";
  s.tls = TlsPolicy::opportunistic;
  return s;
}

const std::string kBanner = "220 mx.remote.test ESMTP\r\n";
const std::string kEhloPlain = "250-mx.remote.test\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n";

TEST(ClientSession, NonPipelinedDeliveryWithOneRefusedRecipient) {
  const auto m = message({"bob@remote.test", "nobody@remote.test"});
  replay(plain_settings(), {m},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {kEhloPlain, "MAIL FROM:<alice@example.test> SIZE=22\r\n"},
          {"250 2.1.0 ok\r\n", "RCPT TO:<bob@remote.test>\r\n"},
          {"250 2.1.5 ok\r\n", "RCPT TO:<nobody@remote.test>\r\n"},
          {"550 5.1.1 no such user\r\n", "DATA\r\n"},
          {"354 go ahead\r\n", kData + ".\r\n"},
          {"250 2.0.0 queued as 123\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_EQ(run.done.size(), 1u);
           const auto& r = run.done[0];
           ASSERT_EQ(r.size(), 2u);
           EXPECT_EQ(r[0].outcome, Outcome::delivered);
           EXPECT_EQ(r[0].reply, "250 2.0.0 queued as 123");
           EXPECT_EQ(r[1].outcome, Outcome::permanent);
           EXPECT_EQ(r[1].reply, "550 5.1.1 no such user");
           EXPECT_TRUE(run.closed);
           EXPECT_FALSE(run.failed);
         });
}

TEST(ClientSession, PipelinedTransactionInOneWrite) {
  const auto m = message({"bob@remote.test", "carol@remote.test"});
  replay(plain_settings(), {m},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250-mx.remote.test\r\n250-PIPELINING\r\n250 SIZE\r\n",
           "MAIL FROM:<alice@example.test> SIZE=22\r\nRCPT TO:<bob@remote.test>\r\n"
           "RCPT TO:<carol@remote.test>\r\nDATA\r\n"},
          {"250 ok\r\n250 ok\r\n451 4.2.0 try later\r\n354 go\r\n", kData + ".\r\n"},
          {"250 2.0.0 ok\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_EQ(run.done.size(), 1u);
           EXPECT_EQ(run.done[0][0].outcome, Outcome::delivered);
           EXPECT_EQ(run.done[0][1].outcome, Outcome::transient);
           EXPECT_EQ(run.done[0][1].reply, "451 4.2.0 try later");
         });
}

TEST(ClientSession, StartTlsDiscardsInjectedBytesAndAsksEhloAgain) {
  const auto m = message({"bob@remote.test"});
  replay(plain_settings(), {m},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250-mx.remote.test\r\n250-STARTTLS\r\n250 PIPELINING\r\n", "STARTTLS\r\n"},
          {"220 2.0.0 ready\r\n", "EHLO mx.example.test\r\n"},
          {"250-mx.remote.test\r\n250 SIZE 100\r\n", "MAIL FROM:<alice@example.test> SIZE=22\r\n"},
          {"250 ok\r\n", "RCPT TO:<bob@remote.test>\r\n"},
          {"250 ok\r\n", "DATA\r\n"},
          {"354 go\r\n", kData + ".\r\n"},
          {"250 ok\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           EXPECT_EQ(run.start_tls, 1);
           ASSERT_EQ(run.done.size(), 1u);
           EXPECT_EQ(run.done[0][0].outcome, Outcome::delivered);
         });
}

// A man in the middle appends a reply to the 220 (CVE-2011-0411): whatever
// arrived together with the 220 is discarded, at every split of that 220.
TEST(ClientSession, BytesAfterTheStartTls220AreDiscarded) {
  const std::string ready = "220 2.0.0 ready\r\n";
  for (std::size_t split = 0; split < ready.size(); ++split) {
    ScriptedPeer peer(plain_settings(), {message({"bob@remote.test"})});
    peer.play({{kBanner, "EHLO mx.example.test\r\n"},
               {"250-mx.remote.test\r\n250 STARTTLS\r\n", "STARTTLS\r\n"},
               {ready + "250-x\r\n250 PIPELINING\r\n", "EHLO mx.example.test\r\n"},
               {"250 x\r\n", "MAIL FROM:<alice@example.test>\r\n"}},
              split, false);
    ASSERT_FALSE(peer.run().mismatch) << split << " " << peer.run().mismatch_text;
    EXPECT_FALSE(peer.session().capabilities().pipelining);
  }
}

TEST(ClientSession, TlsRequiredButNotOfferedFailsTransiently) {
  ClientSettings s = plain_settings();
  s.tls = TlsPolicy::required;
  replay(s, {message({"bob@remote.test"})},
         {{kBanner, "EHLO mx.example.test\r\n"}, {kEhloPlain, "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_TRUE(run.failed);
           EXPECT_EQ(run.failed->stage, Stage::tls_unavailable);
           EXPECT_FALSE(run.failed->permanent);
           EXPECT_NE(run.failed->reason.find("TLS required"), std::string::npos);
           EXPECT_TRUE(run.done.empty());
           EXPECT_EQ(run.transcript.find("MAIL"), std::string::npos);
         });
}

TEST(ClientSession, TlsPolicyNoneIgnoresStartTls) {
  ClientSettings s = plain_settings();
  s.tls = TlsPolicy::none;
  replay(s, {}, {{kBanner, "EHLO mx.example.test\r\n"}, {"250-x\r\n250 STARTTLS\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           EXPECT_EQ(run.start_tls, 0);
           EXPECT_EQ(run.ready, 1);
         });
}

TEST(ClientSession, RefusedStartTlsIsAFailureOfThatStage) {
  replay(plain_settings(), {},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250-x\r\n250 STARTTLS\r\n", "STARTTLS\r\n"},
          {"454 4.7.0 TLS not available\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_TRUE(run.failed);
           EXPECT_EQ(run.failed->stage, Stage::starttls);
           EXPECT_EQ(run.failed->reason, "STARTTLS refused: 454 4.7.0 TLS not available");
         });
}

TEST(ClientSession, HandshakeFailureIsReported) {
  ScriptedPeer peer(plain_settings(), {});
  peer.set_tls_fails();
  peer.play({{kBanner, "EHLO mx.example.test\r\n"},
             {"250-x\r\n250 STARTTLS\r\n", "STARTTLS\r\n"},
             {"220 go\r\n", ""}},
            0, false);
  ASSERT_FALSE(peer.run().mismatch) << peer.run().mismatch_text;
  ASSERT_TRUE(peer.run().failed);
  EXPECT_EQ(peer.run().failed->stage, Stage::tls_handshake);
  EXPECT_TRUE(peer.run().closed);
}

TEST(ClientSession, AuthPlainOverTls) {
  ClientSettings s = plain_settings();
  s.tls_active = true;  // implicit TLS
  s.tls = TlsPolicy::required;
  s.credentials = Credentials{"alice", "secret"};
  replay(s, {},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250-x\r\n250 AUTH LOGIN PLAIN\r\n", "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"},
          {"235 2.7.0 ok\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           EXPECT_EQ(run.ready, 1);
           EXPECT_FALSE(run.failed);
         });
}

TEST(ClientSession, AuthLoginWhenPlainIsNotOffered) {
  ClientSettings s = plain_settings();
  s.tls_active = true;
  s.credentials = Credentials{"alice", "secret"};
  replay(s, {},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250-x\r\n250 AUTH=LOGIN\r\n", "AUTH LOGIN\r\n"},
          {"334 VXNlcm5hbWU6\r\n", "YWxpY2U=\r\n"},
          {"334 UGFzc3dvcmQ6\r\n", "c2VjcmV0\r\n"},
          {"235 ok\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) { EXPECT_EQ(run.ready, 1); });
}

TEST(ClientSession, AuthFailureIsPermanentForThatHost) {
  ClientSettings s = plain_settings();
  s.tls_active = true;
  s.credentials = Credentials{"alice", "wrong"};
  replay(s, {message({"bob@remote.test"})},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250-x\r\n250 AUTH PLAIN\r\n", "AUTH PLAIN AGFsaWNlAHdyb25n\r\n"},
          {"535 5.7.8 bad credentials\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_TRUE(run.failed);
           EXPECT_EQ(run.failed->stage, Stage::auth);
           EXPECT_TRUE(run.failed->permanent);
           EXPECT_EQ(run.ready, 0);
         });
}

TEST(ClientSession, NeverSendsCredentialsWithoutTls) {
  ClientSettings s = plain_settings();
  s.credentials = Credentials{"alice", "secret"};
  replay(s, {message({"bob@remote.test"})},
         {{kBanner, "EHLO mx.example.test\r\n"}, {"250-x\r\n250 AUTH PLAIN LOGIN\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_TRUE(run.failed);
           EXPECT_EQ(run.failed->stage, Stage::auth);
           EXPECT_EQ(run.transcript.find("AUTH"), std::string::npos);
         });
}

TEST(ClientSession, EhloRefusedFallsBackToHelo) {
  replay(plain_settings(), {message({"bob@remote.test"})},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"502 5.5.2 what\r\n", "HELO mx.example.test\r\n"},
          {"250 hello\r\n", "MAIL FROM:<alice@example.test>\r\n"},
          {"250 ok\r\n", "RCPT TO:<bob@remote.test>\r\n"},
          {"250 ok\r\n", "DATA\r\n"},
          {"354 go\r\n", kData + ".\r\n"},
          {"250 ok\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_EQ(run.done.size(), 1u);
           EXPECT_EQ(run.done[0][0].outcome, Outcome::delivered);
         });
}

TEST(ClientSession, BannerRefusals) {
  replay(plain_settings(), {}, {{"554 5.7.1 go away\r\n", "QUIT\r\n"}}, [](const DialogueRun& run) {
    ASSERT_TRUE(run.failed);
    EXPECT_EQ(run.failed->stage, Stage::banner);
    EXPECT_TRUE(run.failed->permanent);
    EXPECT_EQ(run.failed->reason, "banner: 554 5.7.1 go away");
  });
  replay(plain_settings(), {}, {{"421-busy\r\n421 come back later\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_TRUE(run.failed);
           EXPECT_FALSE(run.failed->permanent);
           EXPECT_EQ(run.failed->reason, "banner: 421 busy come back later");
         });
}

TEST(ClientSession, EhloTemporaryFailureIsAConnectionFailure) {
  replay(plain_settings(), {},
         {{kBanner, "EHLO mx.example.test\r\n"}, {"421 4.3.2 shutting down\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_TRUE(run.failed);
           EXPECT_EQ(run.failed->stage, Stage::ehlo);
         });
}

TEST(ClientSession, RefusedMailFailsEveryRecipient) {
  replay(plain_settings(), {message({"a@r.test", "b@r.test"})},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250 x\r\n", "MAIL FROM:<alice@example.test>\r\n"},
          {"553 5.7.1 sender refused\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_EQ(run.done.size(), 1u);
           for (const auto& r : run.done[0]) {
             EXPECT_EQ(r.outcome, Outcome::permanent);
             EXPECT_EQ(r.reply, "553 5.7.1 sender refused");
           }
         });
}

TEST(ClientSession, PipelinedRefusedMailReadsEveryReplyAndFailsAll) {
  replay(plain_settings(), {message({"a@r.test", "b@r.test"})},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250-x\r\n250 PIPELINING\r\n",
           "MAIL FROM:<alice@example.test>\r\nRCPT TO:<a@r.test>\r\nRCPT TO:<b@r.test>\r\n"
           "DATA\r\n"},
          {"451 4.3.0 later\r\n503 5.5.1 no MAIL\r\n503 5.5.1 no MAIL\r\n554 no valid\r\n",
           "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_EQ(run.done.size(), 1u);
           for (const auto& r : run.done[0]) {
             EXPECT_EQ(r.outcome, Outcome::transient);
             EXPECT_EQ(r.reply, "451 4.3.0 later");
           }
         });
}

TEST(ClientSession, AllRecipientsRefusedSendsNoData) {
  replay(plain_settings(), {message({"a@r.test"})},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250 x\r\n", "MAIL FROM:<alice@example.test>\r\n"},
          {"250 ok\r\n", "RCPT TO:<a@r.test>\r\n"},
          {"550 5.1.1 unknown\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_EQ(run.done.size(), 1u);
           EXPECT_EQ(run.done[0][0].outcome, Outcome::permanent);
         });
}

TEST(ClientSession, PipelinedAllRefusedButDataAcceptedSendsOnlyTheDot) {
  replay(plain_settings(), {message({"a@r.test"})},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250-x\r\n250 PIPELINING\r\n",
           "MAIL FROM:<alice@example.test>\r\nRCPT TO:<a@r.test>\r\nDATA\r\n"},
          {"250 ok\r\n550 5.1.1 unknown\r\n354 go\r\n", ".\r\n"},
          {"554 5.5.1 no recipients\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_EQ(run.done.size(), 1u);
           EXPECT_EQ(run.done[0][0].outcome, Outcome::permanent);
           EXPECT_EQ(run.done[0][0].reply, "550 5.1.1 unknown");
           EXPECT_EQ(run.transcript.find("Subject"), std::string::npos);
         });
}

TEST(ClientSession, RefusedDataAndRefusedContent) {
  replay(plain_settings(), {message({"a@r.test"})},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250 x\r\n", "MAIL FROM:<alice@example.test>\r\n"},
          {"250 ok\r\n", "RCPT TO:<a@r.test>\r\n"},
          {"250 ok\r\n", "DATA\r\n"},
          {"452 4.3.1 no space\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           EXPECT_EQ(run.done.at(0).at(0).outcome, Outcome::transient);
           EXPECT_EQ(run.done[0][0].reply, "452 4.3.1 no space");
         });
  replay(
      plain_settings(), {message({"a@r.test"})},
      {{kBanner, "EHLO mx.example.test\r\n"},
       {"250 x\r\n", "MAIL FROM:<alice@example.test>\r\n"},
       {"250 ok\r\n", "RCPT TO:<a@r.test>\r\n"},
       {"250 ok\r\n", "DATA\r\n"},
       {"354 go\r\n", kData + ".\r\n"},
       {"554 5.7.1 spam\r\n", "QUIT\r\n"}},
      [](const DialogueRun& run) { EXPECT_EQ(run.done.at(0).at(0).outcome, Outcome::permanent); });
}

TEST(ClientSession, ConnectionReuseSendsRsetBeforeTheNextMessage) {
  const auto m1 = message({"a@r.test"});
  const auto m2 = message({"b@r.test"});
  // Without PIPELINING, RSET waits for its reply before MAIL.
  replay(plain_settings(), {m1, m2},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250 x\r\n", "MAIL FROM:<alice@example.test>\r\n"},
          {"250 ok\r\n", "RCPT TO:<a@r.test>\r\n"},
          {"250 ok\r\n", "DATA\r\n"},
          {"354 go\r\n", kData + ".\r\n"},
          {"250 first\r\n", "RSET\r\n"},
          {"250 reset\r\n", "MAIL FROM:<alice@example.test>\r\n"},
          {"250 ok\r\n", "RCPT TO:<b@r.test>\r\n"},
          {"250 ok\r\n", "DATA\r\n"},
          {"354 go\r\n", kData + ".\r\n"},
          {"250 second\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_EQ(run.done.size(), 2u);
           EXPECT_EQ(run.done[0][0].reply, "250 first");
           EXPECT_EQ(run.done[1][0].reply, "250 second");
         });
}

TEST(ClientSession, ConnectionReusePipelinesRsetWithTheNextEnvelope) {
  const auto m1 = message({"a@r.test"});
  const auto m2 = message({"b@r.test"});
  // RFC 2920 §3.1: RSET may lead a pipelined group; one round trip saved.
  replay(plain_settings(), {m1, m2},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250-x\r\n250 PIPELINING\r\n",
           "MAIL FROM:<alice@example.test>\r\nRCPT TO:<a@r.test>\r\nDATA\r\n"},
          {"250 ok\r\n250 ok\r\n354 go\r\n", kData + ".\r\n"},
          {"250 first\r\n",
           "RSET\r\nMAIL FROM:<alice@example.test>\r\nRCPT TO:<b@r.test>\r\nDATA\r\n"},
          {"250 reset\r\n250 ok\r\n250 ok\r\n354 go\r\n", kData + ".\r\n"},
          {"250 second\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           ASSERT_EQ(run.done.size(), 2u);
           EXPECT_EQ(run.done[0][0].reply, "250 first");
           EXPECT_EQ(run.done[1][0].reply, "250 second");
         });
}

TEST(ClientSession, DeadReusedConnectionFailsAtRset) {
  ScriptedPeer peer(plain_settings(), {message({"a@r.test"}), message({"b@r.test"})});
  peer.play({{kBanner, "EHLO mx.example.test\r\n"},
             {"250 x\r\n", "MAIL FROM:<alice@example.test>\r\n"},
             {"250 ok\r\n", "RCPT TO:<a@r.test>\r\n"},
             {"250 ok\r\n", "DATA\r\n"},
             {"354 go\r\n", kData + ".\r\n"},
             {"250 ok\r\n", "RSET\r\n"},
             {"421 4.4.2 idle too long\r\n", "QUIT\r\n"}},
            0, false);
  ASSERT_FALSE(peer.run().mismatch) << peer.run().mismatch_text;
  ASSERT_TRUE(peer.run().failed);
  EXPECT_EQ(peer.run().failed->stage, Stage::rset);
  EXPECT_EQ(peer.run().done.size(), 1u);
}

TEST(ClientSession, DeadReusedConnectionFailsAtPipelinedRset) {
  const std::string second =
      "RSET\r\nMAIL FROM:<alice@example.test>\r\nRCPT TO:<b@r.test>\r\nDATA\r\n";
  const std::vector<Step> head = {
      {kBanner, "EHLO mx.example.test\r\n"},
      {"250-x\r\n250 PIPELINING\r\n",
       "MAIL FROM:<alice@example.test>\r\nRCPT TO:<a@r.test>\r\nDATA\r\n"},
      {"250 ok\r\n250 ok\r\n354 go\r\n", kData + ".\r\n"},
      {"250 ok\r\n", second}};
  {
    // Refused: the rest of the group is not waited for and no data is sent.
    ScriptedPeer peer(plain_settings(), {message({"a@r.test"}), message({"b@r.test"})});
    auto steps = head;
    steps.push_back({"421 4.4.2 idle too long\r\n", "QUIT\r\n"});
    peer.play(steps, 0, false);
    ASSERT_FALSE(peer.run().mismatch) << peer.run().mismatch_text;
    ASSERT_TRUE(peer.run().failed);
    EXPECT_EQ(peer.run().failed->stage, Stage::rset);
    EXPECT_EQ(peer.run().done.size(), 1u);
  }
  {
    // Closed while idle: no reply at all is an RSET failure too (the
    // courier then tries a fresh connection), not a deferred message.
    ScriptedPeer peer(plain_settings(), {message({"a@r.test"}), message({"b@r.test"})});
    peer.play(head, 0, true);
    peer.session().peer_closed();
    peer.drain();
    ASSERT_FALSE(peer.run().mismatch) << peer.run().mismatch_text;
    ASSERT_TRUE(peer.run().failed);
    EXPECT_EQ(peer.run().failed->stage, Stage::rset);
    EXPECT_EQ(peer.run().done.size(), 1u);
  }
}

TEST(ClientSession, SizeLimitAndSmtputf8AreCheckedBeforeSending) {
  OutgoingMessage big = message({"a@r.test"});
  replay(plain_settings(), {big},
         {{kBanner, "EHLO mx.example.test\r\n"}, {"250-x\r\n250 SIZE 10\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           EXPECT_EQ(run.done.at(0).at(0).outcome, Outcome::permanent);
           EXPECT_NE(run.done[0][0].reply.find("5.3.4"), std::string::npos);
         });
  OutgoingMessage utf8 = message({"a@r.test"});
  utf8.smtputf8 = true;
  replay(plain_settings(), {utf8},
         {{kBanner, "EHLO mx.example.test\r\n"}, {"250-x\r\n250 8BITMIME\r\n", "QUIT\r\n"}},
         [](const DialogueRun& run) {
           EXPECT_EQ(run.done.at(0).at(0).outcome, Outcome::permanent);
           EXPECT_NE(run.done[0][0].reply.find("5.6.7"), std::string::npos);
         });
}

TEST(ClientSession, ExtensionParametersOnlyWhenOffered) {
  OutgoingMessage m = message({"a@r.test"});
  m.eight_bit = true;
  m.smtputf8 = true;
  m.dsn_ret = "HDRS";
  m.dsn_envid = "abc";
  m.recipients[0].notify = "FAILURE";
  m.recipients[0].orcpt = "rfc822;a@r.test";
  replay(plain_settings(), {m},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250-x\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250 PIPELINING\r\n",
           "MAIL FROM:<alice@example.test> BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=abc\r\n"
           "RCPT TO:<a@r.test> NOTIFY=FAILURE ORCPT=rfc822;a@r.test\r\nDATA\r\n"}},
         [](const DialogueRun&) {});
  OutgoingMessage plain = m;
  plain.smtputf8 = false;
  replay(plain_settings(), {plain},
         {{kBanner, "EHLO mx.example.test\r\n"},
          {"250-x\r\n250 PIPELINING\r\n",
           "MAIL FROM:<alice@example.test>\r\nRCPT TO:<a@r.test>\r\nDATA\r\n"}},
         [](const DialogueRun&) {});
}

TEST(ClientSession, MalformedReplyEndsTheConnection) {
  replay(plain_settings(), {}, {{"hello there\r\n", ""}}, [](const DialogueRun& run) {
    ASSERT_TRUE(run.failed);
    EXPECT_TRUE(run.closed);
  });
  replay(plain_settings(), {}, {{kBanner, "EHLO mx.example.test\r\n"}, {"250-x\r\n251 y\r\n", ""}},
         [](const DialogueRun& run) { ASSERT_TRUE(run.failed); });
}

// The reference dialogue for failure injection: every step of a delivery.
const std::vector<Step> kFullDialogue = {
    {kBanner, "EHLO mx.example.test\r\n"},
    {"250-x\r\n250 STARTTLS\r\n", "STARTTLS\r\n"},
    {"220 go\r\n", "EHLO mx.example.test\r\n"},
    {"250 x\r\n", "MAIL FROM:<alice@example.test>\r\n"},
    {"250 ok\r\n", "RCPT TO:<a@r.test>\r\n"},
    {"250 ok\r\n", "RCPT TO:<b@r.test>\r\n"},
    {"550 no\r\n", "DATA\r\n"},
    {"354 go\r\n", kData + ".\r\n"},
    {"250 ok\r\n", "QUIT\r\n"},
};

// Peer close or timeout after each step: no recipient is ever "delivered"
// unless the final 250 was seen, every message gets its results, and the
// connection is closed.
TEST(ClientSession, FailureInjectedAfterEveryStep) {
  for (bool use_timeout : {false, true}) {
    for (std::size_t n = 0; n < kFullDialogue.size(); ++n) {
      SCOPED_TRACE("after step " + std::to_string(n) + (use_timeout ? " timeout" : " close"));
      ScriptedPeer peer(plain_settings(), {message({"a@r.test", "b@r.test"})});
      peer.play(std::vector<Step>(kFullDialogue.begin(), kFullDialogue.begin() + n), 0, false);
      ASSERT_FALSE(peer.run().mismatch) << peer.run().mismatch_text;
      if (use_timeout) {
        peer.session().timeout();
      } else {
        peer.session().peer_closed();
      }
      peer.drain();
      const DialogueRun& run = peer.run();
      EXPECT_TRUE(run.closed);
      EXPECT_TRUE(peer.session().closed());
      if (n < 4) {
        ASSERT_TRUE(run.failed);
        EXPECT_FALSE(run.failed->permanent);
        EXPECT_TRUE(run.done.empty());
      } else {
        ASSERT_EQ(run.done.size(), 1u);
        EXPECT_EQ(run.done[0][0].outcome, Outcome::transient);
        if (n >= 7) {
          EXPECT_EQ(run.done[0][1].outcome, Outcome::permanent);
        }
        EXPECT_NE(run.done[0][0].reply.find(use_timeout ? "timeout" : "connection lost"),
                  std::string::npos);
      }
    }
  }
}

TEST(EncodeData, NormalisesLineEndingsAndStuffsDots) {
  EXPECT_EQ(encode_data("a\r\nb\r\n"), "a\r\nb\r\n.\r\n");
  EXPECT_EQ(encode_data("a\nb"), "a\r\nb\r\n.\r\n");
  EXPECT_EQ(encode_data("a\rb\r"), "a\r\nb\r\n.\r\n");
  EXPECT_EQ(encode_data(".start\r\n..two\r\nmid.dle\r\n"), "..start\r\n...two\r\nmid.dle\r\n.\r\n");
  EXPECT_EQ(encode_data("x\r\n.\r\ny\r\n"), "x\r\n..\r\ny\r\n.\r\n");
  EXPECT_EQ(encode_data("x\n.\ny"), "x\r\n..\r\ny\r\n.\r\n");
  EXPECT_EQ(encode_data("x\r.\rz"), "x\r\n..\r\nz\r\n.\r\n");
  EXPECT_EQ(encode_data(""), ".\r\n");
  EXPECT_EQ(encode_data("."), "..\r\n.\r\n");
  // No bare CR or LF ever leaves.
  const std::string out = encode_data("a\r\r\n\n\rb\n\r");
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\r') {
      ASSERT_LT(i + 1, out.size());
      EXPECT_EQ(out[i + 1], '\n');
    }
    if (out[i] == '\n') {
      ASSERT_GT(i, 0u);
      EXPECT_EQ(out[i - 1], '\r');
    }
  }
}

}  // namespace
}  // namespace postern::smtp::client

namespace postern::smtp::client {
namespace {

// RFC 5321 §4.5.3.2: the time each awaited reply may take in all, and the
// count of complete replies the driver restarts the clock on. A partial
// reply (a trickle) does not count.
TEST(ClientSession, ReplyTimeoutFollowsTheStepOfTheDialogue) {
  using std::chrono::minutes;
  ClientSession s(plain_settings());
  EXPECT_EQ(s.reply_timeout(), minutes(5));  // the banner
  s.feed("220 mx.remote.test ES");
  EXPECT_EQ(s.replies_received(), 0u);
  s.feed("MTP\r\n");
  EXPECT_EQ(s.replies_received(), 1u);
  EXPECT_EQ(s.reply_timeout(), minutes(5));          // EHLO
  s.feed("250-mx.remote.test\r\n250 8BITMIME\r\n");  // no PIPELINING: one step at a time
  ASSERT_TRUE(s.ready());
  const auto m = message({"bob@remote.test"});
  s.send_message(m);
  EXPECT_EQ(s.reply_timeout(), minutes(5));  // MAIL
  s.feed("250 2.1.0 ok\r\n");
  EXPECT_EQ(s.reply_timeout(), minutes(5));  // RCPT
  s.feed("250 2.1.5 ok\r\n");
  EXPECT_EQ(s.reply_timeout(), minutes(2));  // DATA initiation
  s.feed("354 go\r\n");
  EXPECT_EQ(s.reply_timeout(), minutes(10));  // DATA termination
  EXPECT_EQ(s.replies_received(), 5u);
  s.feed("250 2.0.0 queued\r\n");
  EXPECT_TRUE(s.ready());
}

// A reply line that never ends is refused once it passes the bound, not
// buffered without end.
TEST(ClientSession, EndlessBannerLineFailsTheConnection) {
  ClientSession s(plain_settings());
  s.feed("220 ");
  const std::string chunk(4096, 'x');
  for (int i = 0; i < 8 && !s.closed(); ++i) s.feed(chunk);
  EXPECT_TRUE(s.closed());
  bool failed = false;
  for (auto& a : s.take_actions()) failed |= std::holds_alternative<Failed>(a);
  EXPECT_TRUE(failed);
}

}  // namespace
}  // namespace postern::smtp::client
