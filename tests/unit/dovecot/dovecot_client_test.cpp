// The asynchronous edge (DovecotClient) against fake Dovecot sockets in a
// thread: scripted answers, a socket that is missing, a peer that accepts
// and says nothing (the deadline), a peer that hangs up, and the RCPT
// answer cache (one connection for repeated questions, none for failures).
#include "dovecot/dovecot_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include "tools/fake_dovecot.hpp"

namespace postern::dovecot {
namespace {

using namespace std::chrono_literals;

using postern::testing::FakeDovecot;

const std::string& kAuthHello = postern::testing::kDovecotAuthHello;

class DovecotClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "postern-dc-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    options_.auth_socket = dir_ / "auth-client";
    options_.userdb_socket = dir_ / "auth-userdb";
    options_.auth_timeout = 500ms;
    options_.lookup_timeout = 500ms;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  AuthAnswer authenticate(DovecotClient& client) {
    AuthRequest r;
    r.mechanism = "PLAIN";
    r.user = "carol@example.test";
    r.password = "pw";
    r.client_ip = "192.0.2.1";
    std::promise<AuthAnswer> p;
    client.authenticate(r, [&p](AuthAnswer a) { p.set_value(std::move(a)); });
    auto f = p.get_future();
    EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
    return f.get();
  }
  LookupAnswer lookup(DovecotClient& client, std::string address) {
    std::promise<LookupAnswer> p;
    client.lookup_user(std::move(address), [&p](LookupAnswer a) { p.set_value(std::move(a)); });
    auto f = p.get_future();
    EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
    return f.get();
  }

  std::filesystem::path dir_;
  ClientOptions options_;
};

TEST_F(DovecotClientTest, AuthOkCarriesDovecotsUserName) {
  FakeDovecot fake(options_.auth_socket, kAuthHello, "resp=", "OK\t1\tuser=carol@example.test\n");
  DovecotClient client(options_);
  const AuthAnswer a = authenticate(client);
  EXPECT_EQ(a.verdict, AuthVerdict::ok);
  EXPECT_EQ(a.user, "carol@example.test");
  EXPECT_NE(fake.received.find("CPID\t"), std::string::npos);
  EXPECT_NE(fake.received.find("\trip=192.0.2.1"), std::string::npos);
}

TEST_F(DovecotClientTest, MissingSocketIsTemporaryAtOnce) {
  DovecotClient client(options_);
  const auto started = std::chrono::steady_clock::now();
  const AuthAnswer a = authenticate(client);
  EXPECT_EQ(a.verdict, AuthVerdict::temporary);
  EXPECT_NE(a.reason.find("cannot connect to"), std::string::npos) << a.reason;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 400ms);
  EXPECT_EQ(lookup(client, "carol@example.test").verdict, UserVerdict::temporary);
}

TEST_F(DovecotClientTest, SilentPeerHitsTheDeadline) {
  FakeDovecot fake(options_.auth_socket, "", "\n", "", /*hold=*/true);
  DovecotClient client(options_);
  const auto started = std::chrono::steady_clock::now();
  const AuthAnswer a = authenticate(client);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(a.verdict, AuthVerdict::temporary);
  EXPECT_NE(a.reason.find("no answer"), std::string::npos) << a.reason;
  EXPECT_GE(took, 450ms);
  EXPECT_LT(took, 3s);
}

TEST_F(DovecotClientTest, PeerHangingUpIsTemporary) {
  FakeDovecot fake(options_.auth_socket, "VERSION\t1\t2\nMECH\tPLAIN\n", "\n", "");
  DovecotClient client(options_);
  EXPECT_EQ(authenticate(client).verdict, AuthVerdict::temporary);
}

TEST_F(DovecotClientTest, LookupAnswersAreCachedFailuresAreNot) {
  {
    FakeDovecot fake(options_.userdb_socket, "VERSION\t1\t1\nSPID\t1\n", "service=smtp\n",
                     "USER\t1\tcarol@example.test\t\n");
    DovecotClient client(options_);
    EXPECT_EQ(lookup(client, "carol@example.test").verdict, UserVerdict::exists);
    const LookupAnswer again = lookup(client, "carol@EXAMPLE.test");
    EXPECT_EQ(again.verdict, UserVerdict::exists);
    EXPECT_TRUE(again.cached);
    EXPECT_EQ(fake.connections, 1);
  }
  {
    FakeDovecot fake(options_.userdb_socket, "VERSION\t1\t1\n", "service=smtp\n",
                     "FAIL\t1\treason=db down\n");
    DovecotClient client(options_);
    EXPECT_EQ(lookup(client, "dave@example.test").verdict, UserVerdict::temporary);
    EXPECT_EQ(lookup(client, "dave@example.test").verdict, UserVerdict::temporary);
    EXPECT_EQ(fake.connections, 2);
  }
}

TEST_F(DovecotClientTest, NegativeAnswersExpire) {
  options_.negative_ttl = 50ms;
  FakeDovecot fake(options_.userdb_socket, "VERSION\t1\t1\n", "service=smtp\n", "NOTFOUND\t1\n");
  DovecotClient client(options_);
  EXPECT_EQ(lookup(client, "x@example.test").verdict, UserVerdict::not_found);
  EXPECT_TRUE(lookup(client, "x@example.test").cached);
  std::this_thread::sleep_for(80ms);
  EXPECT_FALSE(lookup(client, "x@example.test").cached);
  EXPECT_EQ(fake.connections, 2);
}

TEST_F(DovecotClientTest, StoppedClientAnswersTemporaryAtOnce) {
  DovecotClient client(options_);
  client.stop();
  EXPECT_EQ(authenticate(client).verdict, AuthVerdict::temporary);
  EXPECT_EQ(lookup(client, "x@example.test").verdict, UserVerdict::temporary);
}

TEST(UserdbSocket, BesideTheAuthSocket) {
  EXPECT_EQ(userdb_socket_beside("/run/dovecot/auth-client"), "/run/dovecot/auth-userdb");
  EXPECT_EQ(userdb_socket_beside("/var/spool/postfix/private/auth"),
            "/var/spool/postfix/private/auth-userdb");
}

}  // namespace
}  // namespace postern::dovecot
