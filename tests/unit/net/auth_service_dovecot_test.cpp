// AuthService with [auth] backend = "dovecot": Dovecot's answers become
// outcomes, and Dovecot's own trouble (454) is a temporary failure. The
// AUTH failure throttle stands in front of any verifier, in the connection
// driver (auth/throttle.hpp, tests/unit/auth/throttle_test.cpp,
// tests/e2e/test_auth_throttle.py).
#include <gtest/gtest.h>

#include <future>

#include "net/auth_service.hpp"
#include "tools/fake_dovecot.hpp"
#include "tools/temp_dir.hpp"

namespace postern::net {
namespace {

using postern::testing::FakeDovecot;
using postern::testing::kDovecotAuthHello;
using postern::testing::TempDir;

AuthService::Result verify(AuthService& auth, const std::string& ip, const std::string& user,
                           const std::string& password) {
  AuthService::Attempt attempt;
  attempt.client_ip = ip;
  attempt.mechanism = "PLAIN";
  attempt.secured = true;
  std::promise<AuthService::Result> p;
  auth.verify(attempt, user, password, [&p](AuthService::Result r) { p.set_value(std::move(r)); });
  auto f = p.get_future();
  EXPECT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  return f.get();
}

std::shared_ptr<dovecot::DovecotClient> client_for(const TempDir& dir) {
  dovecot::ClientOptions o;
  o.auth_socket = dir / "auth-client";
  o.userdb_socket = dir / "auth-userdb";
  o.auth_timeout = std::chrono::milliseconds(1000);
  return std::make_shared<dovecot::DovecotClient>(o);
}

TEST(AuthServiceDovecot, OkGivesDovecotsNameAndFailuresAreInvalid) {
  TempDir dir;
  {
    FakeDovecot ok(dir / "auth-client", kDovecotAuthHello,
                   "resp=", "OK\t{id}\tuser=carol@example.test\n");
    AuthService auth(dir / "users", 1, client_for(dir));
    const auto r = verify(auth, "192.0.2.1", "Carol", "pw");
    EXPECT_EQ(r.outcome, smtp::AuthOutcome::ok);
    EXPECT_EQ(r.user, "carol@example.test");
  }
  FakeDovecot fail(dir / "auth-client", kDovecotAuthHello, "resp=", "FAIL\t{id}\tuser=x\n");
  AuthService auth(dir / "users", 1, client_for(dir));
  for (int i = 0; i < 3; ++i) {
    const auto r = verify(auth, "192.0.2.7", "mallory@example.test", "guess");
    EXPECT_EQ(r.outcome, smtp::AuthOutcome::invalid) << i;
  }
  EXPECT_EQ(fail.connections, 3);
}

TEST(AuthServiceDovecot, DovecotDownIsTemporaryAndNotCounted) {
  TempDir dir;  // no socket at all
  AuthService auth(dir / "users", 1, client_for(dir));
  for (int i = 0; i < 15; ++i) {
    const auto r = verify(auth, "192.0.2.9", "carol@example.test", "pw");
    EXPECT_EQ(r.outcome, smtp::AuthOutcome::temporary_failure) << i;
    EXPECT_EQ(r.delay.count(), 0);
  }
}

}  // namespace
}  // namespace postern::net
