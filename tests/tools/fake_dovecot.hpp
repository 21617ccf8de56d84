// A fake Dovecot socket for unit tests (tests/unit/dovecot, tests/unit/net):
// a UNIX listener in a thread that answers every connection from a script.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

namespace postern::testing {

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
        const std::string reply = with_request_id(answer, got);
        if (!reply.empty()) (void)!::write(c, reply.data(), reply.size());
        if (hold) {
          while (!stopping) std::this_thread::sleep_for(std::chrono::milliseconds(10));
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

  // "{id}" in the answer becomes the id of the request received (the
  // number after "AUTH\t" or "USER\t").
  static std::string with_request_id(std::string answer, const std::string& got) {
    const auto at = answer.find("{id}");
    if (at == std::string::npos) return answer;
    std::string id;
    for (const char* verb : {"AUTH\t", "USER\t"}) {
      const auto v = got.find(verb);
      if (v == std::string::npos) continue;
      for (std::size_t i = v + 5; i < got.size() && got[i] >= '0' && got[i] <= '9'; ++i)
        id += got[i];
    }
    return answer.replace(at, 4, id);
  }

  std::atomic<int> connections{0};
  std::atomic<bool> stopping{false};
  std::string received;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::thread thread_;
};

// What Dovecot 2.3 sends on the auth-client socket before DONE.
inline const std::string kDovecotAuthHello =
    "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\nSPID\t1\nCUID\t1\n"
    "COOKIE\tabc\nDONE\n";

}  // namespace postern::testing
