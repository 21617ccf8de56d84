// Runs tests/tools/smtp_receiver.py (aiosmtpd) as a child process for
// courier tests that need real TLS and AUTH on the receiving side. Waits for
// its "ready" line with a deadline; kills it (by its pid) when destroyed.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace postern::outbound::test_support {

inline std::filesystem::path tools_dir() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "tools";
}

class ReceiverProcess {
 public:
  ReceiverProcess(std::vector<std::string> args, std::filesystem::path out) : out_(std::move(out)) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    std::vector<std::string> argv_s = {
        "/usr/bin/python3", (tools_dir() / "smtp_receiver.py").string(), "--out", out_.string()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::error_code ec;
    std::filesystem::create_directories(out_, ec);
    // aiosmtpd's warnings go to a file beside the messages, not the test output.
    const std::string log = (out_ / "receiver.log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (err >= 0) ::dup2(err, 2);
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_fd_ = fds[0];
  }

  // True once the receiver printed "ready" (within `timeout`).
  bool wait_ready(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string seen;
    while (seen.find("ready") == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || out_fd_ < 0) return false;
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[256];
      const ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) return false;
      seen.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }

  ~ReceiverProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 100; ++i) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        ::usleep(20000);
      }
      if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }

  // Messages received so far, as the JSON text of each file.
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (int n = 1;; ++n) {
      std::ifstream in(out_ / ("msg-" + std::to_string(n) + ".json"));
      if (!in) break;
      std::stringstream s;
      s << in.rdbuf();
      out.push_back(s.str());
    }
    return out;
  }

 private:
  std::filesystem::path out_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
};

}  // namespace postern::outbound::test_support
