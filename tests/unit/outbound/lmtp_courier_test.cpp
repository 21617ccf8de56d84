// The LMTP courier's outcome when the LMTP server is not there (issue 19):
// a refused socket and a server that never greets both come back as
// transient "4.4.1" for every recipient, the reply the queue runner reads
// as "the destination does not answer" (it marks the local destination
// dead and backs off, as for an MX host; queue_runner_test.cpp).
#include "outbound/lmtp_courier.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "tools/temp_dir.hpp"

namespace postern::outbound {
namespace {

using delivery::Outcome;

spool::QueuedMessage two_recipients() {
  spool::QueuedMessage m;
  m.id = "TESTID";
  m.envelope.mail_from = "a@example.test";
  for (const char* rcpt : {"b@example.test", "c@example.test"}) {
    spool::RecipientStatus r;
    r.recipient.address = rcpt;
    m.recipients.push_back(r);
  }
  return m;
}

LmtpOptions options_for(const std::filesystem::path& socket) {
  LmtpOptions o;
  o.target.kind = config::LocalTarget::Kind::lmtp_unix;
  o.target.socket = socket;
  o.hostname = "mx.example.test";
  o.connect_timeout = std::chrono::milliseconds(500);
  o.command_timeout = std::chrono::milliseconds(300);
  return o;
}

void expect_unreachable(const std::vector<delivery::RecipientResult>& results) {
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    EXPECT_EQ(r.outcome, Outcome::transient);
    EXPECT_TRUE(r.reply.starts_with("4.4.1 LMTP server unreachable")) << r.reply;
    EXPECT_EQ(r.kind, delivery::FailureKind::unreachable);
  }
}

TEST(LmtpCourier, NoSocketIsUnreachable) {
  postern::testing::TempDir dir;
  LmtpCourier courier(options_for(dir.path() / "lmtp"));
  expect_unreachable(courier.deliver(two_recipients(), "Subject: x\r\n\r\nx\r\n", {0, 1}));
}

TEST(LmtpCourier, AServerThatNeverGreetsIsUnreachable) {
  postern::testing::TempDir dir;
  const auto path = dir.path() / "lmtp";
  // Listening but never accepting: the kernel completes the connection and
  // no greeting ever comes.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  LmtpCourier courier(options_for(path));
  expect_unreachable(courier.deliver(two_recipients(), "Subject: x\r\n\r\nx\r\n", {0, 1}));
  ::close(fd);
}

}  // namespace
}  // namespace postern::outbound

namespace postern::outbound {
namespace {

// An LMTP server on a UNIX socket that greets every connection and then
// never answers: the courier waits on its event loop, holding no thread.
class SilentLmtpServer {
 public:
  explicit SilentLmtpServer(const std::filesystem::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          ::listen(fd_, 16) == 0;
    thread_ = std::thread([this] {
      for (;;) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;  // the listening socket was shut down
        const char banner[] = "220 lmtp.example.test ready\r\n";
        [[maybe_unused]] const ssize_t n = ::write(c, banner, sizeof banner - 1);
        clients_.push_back(c);
      }
    });
  }
  ~SilentLmtpServer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    for (const int c : clients_) ::close(c);
    ::close(fd_);
  }
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
  std::vector<int> clients_;
  std::thread thread_;
};

TEST(LmtpCourier, CancelEndsDeliveriesWaitingOnASilentServerAtOnce) {
  postern::testing::TempDir dir;
  const auto path = dir.path() / "lmtp";
  SilentLmtpServer server(path);
  ASSERT_TRUE(server.ok());
  LmtpOptions o = options_for(path);
  o.command_timeout = std::chrono::minutes(5);  // only cancel() can end the wait
  LmtpCourier courier(o);
  ASSERT_TRUE(courier.asynchronous());
  constexpr int kDeliveries = 3;
  std::promise<void> all_done;
  std::atomic<int> left{kDeliveries};
  std::atomic<int> transient{0};
  auto data = std::make_shared<const std::string>("Subject: x\r\n\r\nx\r\n");
  for (int i = 0; i < kDeliveries; ++i) {
    courier.deliver_async(two_recipients(), data, {0, 1},
                          [&](std::vector<delivery::RecipientResult> results) {
                            for (const auto& r : results) {
                              if (r.outcome == Outcome::transient) ++transient;
                            }
                            if (--left == 0) all_done.set_value();
                          });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(left.load(), kDeliveries);  // still waiting on the silent server
  const auto t0 = std::chrono::steady_clock::now();
  courier.cancel();
  ASSERT_EQ(all_done.get_future().wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_EQ(transient.load(), 2 * kDeliveries);
  // A delivery after cancel() gives up at once.
  const auto late = courier.deliver(two_recipients(), *data, {0, 1});
  ASSERT_EQ(late.size(), 2u);
  EXPECT_EQ(late[0].outcome, Outcome::transient);
}

TEST(LmtpCourier, ASilentServerIsCutOffAtTheStepDeadline) {
  postern::testing::TempDir dir;
  const auto path = dir.path() / "lmtp";
  SilentLmtpServer server(path);
  ASSERT_TRUE(server.ok());
  LmtpCourier courier(options_for(path));  // command_timeout 300 ms
  const auto t0 = std::chrono::steady_clock::now();
  // It greets, then LHLO is never answered: no answer from the host.
  expect_unreachable(courier.deliver(two_recipients(), "Subject: x\r\n\r\nx\r\n", {0, 1}));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(courier.open_connections(), 0u);
}

}  // namespace
}  // namespace postern::outbound
