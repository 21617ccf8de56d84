// The SMTP courier's asynchronous edge: many sessions in flight on one
// event loop, and cancel() cutting them all at once.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "outbound/smtp_courier.hpp"

namespace postern::outbound {
namespace {

using delivery::Outcome;
using delivery::RecipientResult;

// Accepts connections (the kernel does, from its backlog) and never says a
// word: a tarpit.
class Tarpit {
 public:
  explicit Tarpit(const std::string& ip) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    socklen_t len = sizeof a;
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 256) == 0 &&
          ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    port_ = ntohs(a.sin_port);
  }
  ~Tarpit() { ::close(fd_); }
  bool ok() const { return ok_; }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
  std::uint16_t port_ = 0;
};

class OneHostResolver : public dns::Resolver {
 public:
  dns::MxResult lookup_mx(const std::string& domain) override {
    dns::MxResult r;
    r.status = dns::Status::ok;
    r.hosts.push_back(dns::MxHost{"mx." + domain, 10});
    return r;
  }
  dns::AddressResult lookup_addresses(const std::string&) override {
    return dns::AddressResult{dns::Status::ok, {"127.0.0.7"}, ""};
  }
};

spool::QueuedMessage queued(const std::string& id) {
  spool::QueuedMessage m;
  m.id = id;
  m.envelope.mail_from = "alice@example.test";
  spool::RecipientStatus s;
  s.recipient.address = "bob@tarpit.test";
  m.recipients.push_back(s);
  m.envelope.recipients.push_back(s.recipient);
  return m;
}

std::size_t threads_now() {
  return static_cast<std::size_t>(
      std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                    std::filesystem::directory_iterator()));
}

TEST(AsyncSmtpCourier, ManySilentPeersOnOneLoopAndCancelCutsThemAllAtOnce) {
  Tarpit tarpit("127.0.0.7");
  ASSERT_TRUE(tarpit.ok());
  config::Config config;
  config.hostname = "mx.example.test";
  config.delivery.remote_port = tarpit.port();
  config.delivery.connect_timeout = std::chrono::seconds(5);
  config.delivery.command_timeout = std::chrono::seconds(60);
  SmtpCourier courier(config, std::make_shared<OneHostResolver>());

  constexpr int kSessions = 40;
  const std::size_t threads_before = threads_now();
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::vector<RecipientResult>> answers;
  for (int i = 0; i < kSessions; ++i) {
    courier.deliver_async(queued("Q" + std::to_string(i)),
                          std::make_shared<const std::string>("Subject: t\r\n\r\nbody\r\n"), {0},
                          [&](std::vector<RecipientResult> r) {
                            std::lock_guard lock(mutex);
                            answers.push_back(std::move(r));
                            cv.notify_all();
                          });
  }
  // Every session connects and waits for a banner that never comes.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (courier.open_connections() < kSessions && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(courier.open_connections(), static_cast<std::size_t>(kSessions));
  EXPECT_EQ(courier.in_flight(), static_cast<std::size_t>(kSessions));
  // The courier's threads (its loop, the DNS pool) were there before.
  EXPECT_LE(threads_now(), threads_before + 1);
  {
    std::lock_guard lock(mutex);
    EXPECT_TRUE(answers.empty());
  }

  const auto t0 = std::chrono::steady_clock::now();
  courier.cancel();
  std::unique_lock lock(mutex);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(2),
                          [&] { return answers.size() == static_cast<std::size_t>(kSessions); }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  for (const auto& r : answers) {
    ASSERT_EQ(r.size(), 1u);
    // Never "delivered": the peer never said 250.
    EXPECT_EQ(r[0].outcome, Outcome::transient) << r[0].reply;
  }
  lock.unlock();
  EXPECT_EQ(courier.in_flight(), 0u);
  EXPECT_EQ(courier.open_connections(), 0u);
  // After cancel() a new delivery gives up at once.
  const auto late = courier.deliver(queued("late"), "x\r\n", {0});
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].outcome, Outcome::transient);
}

TEST(AsyncSmtpCourier, AStepDeadlineCutsASilentPeer) {
  Tarpit tarpit("127.0.0.7");
  ASSERT_TRUE(tarpit.ok());
  config::Config config;
  config.hostname = "mx.example.test";
  config.delivery.remote_port = tarpit.port();
  config.delivery.connect_timeout = std::chrono::seconds(5);
  config.delivery.command_timeout = std::chrono::seconds(1);
  SmtpCourier courier(config, std::make_shared<OneHostResolver>());
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = courier.deliver(queued("Q1"), "x\r\n", {0});
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].outcome, Outcome::transient);
  EXPECT_NE(r[0].reply.find("4.4.1"), std::string::npos) << r[0].reply;
  EXPECT_EQ(r[0].kind, delivery::FailureKind::unreachable);
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(5));
}

}  // namespace
}  // namespace postern::outbound
