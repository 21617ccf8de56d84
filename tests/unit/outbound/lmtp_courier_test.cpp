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
