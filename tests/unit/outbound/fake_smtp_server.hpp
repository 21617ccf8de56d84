// A tiny SMTP receiver on a loopback address for courier tests: plaintext
// only, one thread per connection, records what it received. Recipients
// whose local part starts with "reject" get 550, "later" get 451.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace postern::outbound::test_support {

struct ReceivedMessage {
  std::string mail_from;
  std::vector<std::string> recipients;
  std::string data;
};

class FakeSmtpServer {
 public:
  // Listens on ip:port (port 0 = any free one).
  FakeSmtpServer(const std::string& ip, std::uint16_t port, std::string capabilities = "PIPELINING",
                 std::string banner = "220 fake.test ESMTP")
      : capabilities_(std::move(capabilities)), banner_(std::move(banner)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 16) == 0;
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (ok_) accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~FakeSmtpServer() {
    stop_ = true;
    if (accept_thread_.joinable()) accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
    ::close(fd_);
  }

  bool ok() const { return ok_; }
  std::uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }
  std::vector<ReceivedMessage> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::string transcript() const {
    std::lock_guard lock(mutex_);
    return transcript_;
  }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++connections_;
      std::lock_guard lock(mutex_);
      threads_.emplace_back([this, c] { serve(c); });
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

  // Returns false when the connection ended (or the server stops).
  bool read_line(int c, std::string& buffer, std::string& line) {
    for (;;) {
      const std::size_t lf = buffer.find("\r\n");
      if (lf != std::string::npos) {
        line = buffer.substr(0, lf);
        buffer.erase(0, lf + 2);
        return true;
      }
      if (stop_) return false;
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return false;
      buffer.append(buf, static_cast<std::size_t>(n));
    }
  }

  void serve(int c) {
    send_all(c, banner_ + "\r\n");
    if (banner_.rfind("220", 0) != 0) {
      ::close(c);
      return;
    }
    std::string buffer, line;
    ReceivedMessage current;
    while (read_line(c, buffer, line)) {
      {
        std::lock_guard lock(mutex_);
        transcript_ += line + "\n";
      }
      const std::string verb = line.substr(0, 4);
      if (verb == "EHLO") {
        send_all(c, "250-fake.test\r\n250 " + capabilities_ + "\r\n");
      } else if (verb == "HELO" || verb == "RSET" || verb == "NOOP") {
        if (verb == "RSET") current = {};
        send_all(c, "250 2.0.0 ok\r\n");
      } else if (verb == "MAIL") {
        current = {};
        current.mail_from = line.substr(line.find('<') + 1, line.find('>') - line.find('<') - 1);
        send_all(c, "250 2.1.0 ok\r\n");
      } else if (verb == "RCPT") {
        const std::string rcpt =
            line.substr(line.find('<') + 1, line.find('>') - line.find('<') - 1);
        if (rcpt.rfind("reject", 0) == 0) {
          send_all(c, "550 5.1.1 no such user\r\n");
        } else if (rcpt.rfind("later", 0) == 0) {
          send_all(c, "451 4.2.0 try later\r\n");
        } else {
          current.recipients.push_back(rcpt);
          send_all(c, "250 2.1.5 ok\r\n");
        }
      } else if (verb == "DATA") {
        if (current.recipients.empty()) {
          send_all(c, "554 5.5.1 no valid recipients\r\n");
          continue;
        }
        send_all(c, "354 go ahead\r\n");
        std::string data;
        while (read_line(c, buffer, line) && line != ".") data += line + "\r\n";
        current.data = data;
        {
          std::lock_guard lock(mutex_);
          messages_.push_back(current);
        }
        send_all(c, "250 2.0.0 queued\r\n");
      } else if (verb == "QUIT") {
        send_all(c, "221 2.0.0 bye\r\n");
        break;
      } else {
        send_all(c, "502 5.5.2 unknown\r\n");
      }
    }
    ::close(c);
  }

  std::string capabilities_;
  std::string banner_;
  int fd_ = -1;
  bool ok_ = false;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread accept_thread_;
  mutable std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<ReceivedMessage> messages_;
  std::string transcript_;
};

}  // namespace postern::outbound::test_support
