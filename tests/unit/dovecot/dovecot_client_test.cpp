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

namespace postern::dovecot {
namespace {

using namespace std::chrono_literals;

// Accepts connections on a UNIX socket; for each, reads until the request
// line it waits for has arrived, then writes `answer` (or nothing) and
// closes (or holds the connection open until stopped).
class FakeDovecot {
 public:
  FakeDovecot(std::filesystem::path path, std::string greeting, std::string wait_for,
              std::string answer, bool hold = false)
      : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    thread_ = std::thread([this, greeting, wait_for, answer, hold] {
      for (;;) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        ++connections;
        if (!greeting.empty()) (void)!::write(c, greeting.data(), greeting.size());
        std::string got;
        char buf[512];
        while (got.find(wait_for) == std::string::npos) {
          const ssize_t n = ::read(c, buf, sizeof buf);
          if (n <= 0) break;
          got.append(buf, static_cast<std::size_t>(n));
        }
        received = got;
        if (!answer.empty()) (void)!::write(c, answer.data(), answer.size());
        if (hold) {
          while (!stopping) std::this_thread::sleep_for(10ms);
        }
        ::close(c);
      }
    });
  }
  ~FakeDovecot() {
    stopping = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    std::filesystem::remove(path_);
  }

  std::atomic<int> connections{0};
  std::atomic<bool> stopping{false};
  std::string received;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::thread thread_;
};

const std::string kAuthHello =
    "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\nSPID\t1\nCUID\t1\n"
    "COOKIE\tabc\nDONE\n";

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
