#include "service/systemd_notify.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace postern::service {
namespace {

TEST(SystemdNotify, Messages) {
  EXPECT_EQ(ready_message(""), "READY=1\n");
  EXPECT_EQ(ready_message("serving 4 listeners"), "READY=1\nSTATUS=serving 4 listeners\n");
  EXPECT_EQ(reloading_message(std::chrono::microseconds(1234567)),
            "RELOADING=1\nMONOTONIC_USEC=1234567\n");
  EXPECT_EQ(stopping_message(), "STOPPING=1\n");
}

TEST(SystemdNotify, WithoutTheEnvironmentNothingIsSent) {
  SystemdNotifier n("");
  EXPECT_FALSE(n.enabled());
  EXPECT_FALSE(n.send("READY=1\n").has_value());
}

std::string receive(int fd) {
  char buf[512];
  const ssize_t n = recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

TEST(SystemdNotify, SendsOneDatagramToAPathSocket) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("postern-notify-" + std::to_string(getpid()) + ".sock");
  std::filesystem::remove(path);
  const int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  SystemdNotifier n(path.string());
  EXPECT_FALSE(n.send("READY=1\nSTATUS=x\n").has_value());
  EXPECT_EQ(receive(fd), "READY=1\nSTATUS=x\n");
  close(fd);
  std::filesystem::remove(path);
}

TEST(SystemdNotify, SendsToAnAbstractSocket) {
  const std::string name = "@postern-notify-test-" + std::to_string(getpid());
  const int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, name.data() + 1, name.size() - 1);
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  EXPECT_FALSE(SystemdNotifier(name).send(stopping_message()).has_value());
  EXPECT_EQ(receive(fd), "STOPPING=1\n");
  close(fd);
}

TEST(SystemdNotify, ReportsARelativeOrMissingSocket) {
  EXPECT_TRUE(SystemdNotifier("relative.sock").send("READY=1\n").has_value());
  EXPECT_TRUE(SystemdNotifier("/nonexistent/postern.sock").send("READY=1\n").has_value());
}

}  // namespace
}  // namespace postern::service
