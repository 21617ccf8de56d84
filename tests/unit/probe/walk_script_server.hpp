// A scripted SMTP server on 127.0.0.1 for walker tests: sends a greeting
// (or raw bytes, or nothing), then answers each command line with what the
// test's function returns. Records every line it received, so a test can
// check what really went over the wire (e.g. the AUTH secret) against what
// the transcript showed.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace postern::probe::test_support {

class ScriptServer {
 public:
  // Returns the reply (with CRLFs) for a command line; "" = no answer.
  using Answer = std::function<std::string(const std::string& line)>;

  ScriptServer(std::string greeting, Answer answer)
      : greeting_(std::move(greeting)), answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 8) == 0;
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (ok_) thread_ = std::thread([this] { accept_loop(); });
  }

  ~ScriptServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }

  bool ok() const { return ok_; }
  std::uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  // Connections are served one after the other: the walker opens at most
  // one at a time.
  void accept_loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++connections_;
      serve(c);
      ::close(c);
    }
  }

  static void send_all(int c, const std::string& s) {
    std::size_t done = 0;
    while (done < s.size()) {
      const ssize_t n = ::send(c, s.data() + done, s.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  }

  void serve(int c) {
    if (!greeting_.empty()) send_all(c, greeting_);
    std::string buffer;
    while (!stop_) {
      const std::size_t lf = buffer.find("\r\n");
      if (lf != std::string::npos) {
        const std::string line = buffer.substr(0, lf);
        buffer.erase(0, lf + 2);
        {
          std::lock_guard lock(mutex_);
          lines_.push_back(line);
        }
        const std::string reply = answer_(line);
        if (!reply.empty()) send_all(c, reply);
        if (line == "QUIT") return;
        continue;
      }
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      buffer.append(buf, static_cast<std::size_t>(n));
    }
  }

  std::string greeting_;
  Answer answer_;
  int fd_ = -1;
  bool ok_ = false;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace postern::probe::test_support
