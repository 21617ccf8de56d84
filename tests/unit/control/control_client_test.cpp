#include "control/control_client.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

namespace postern::control {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "postern-control-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

// A one-shot server: accepts one connection and runs `serve` on it.
class OneShotServer {
 public:
  OneShotServer(const fs::path& socket_path, std::function<void(int)> serve) {
    int dir_fd = -1;
    const std::string path = reachable_socket_path(socket_path, dir_fd);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, path.size());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    if (dir_fd >= 0) ::close(dir_fd);
    EXPECT_EQ(::listen(fd_, 4), 0);
    thread_ = std::thread([this, serve = std::move(serve)] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      serve(c);
      ::close(c);
    });
  }
  ~OneShotServer() {
    thread_.join();
    ::close(fd_);
  }

 private:
  int fd_ = -1;
  std::thread thread_;
};

std::string read_until_lf(int fd) {
  std::string got;
  char c;
  while (::read(fd, &c, 1) == 1) {
    got += c;
    if (c == '\n') break;
  }
  return got;
}

void write_all(int fd, std::string_view s) {
  ASSERT_EQ(::write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size()));
}

TEST(ControlClient, NoSocketMeansNotRunning) {
  TempDir dir;
  const CallResult r = call(dir.path / "control.sock", "PING\n", 1000ms);
  EXPECT_EQ(r.status, CallResult::Status::not_running);
  EXPECT_NE(r.error.find("control.sock"), std::string::npos) << r.error;
}

TEST(ControlClient, StaleSocketFileMeansNotRunning) {
  TempDir dir;
  const fs::path sock = dir.path / "control.sock";
  {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    sock.string().copy(addr.sun_path, sock.string().size());
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);  // the file stays, nobody listens: a crashed server
  }
  EXPECT_EQ(call(sock, "PING\n", 1000ms).status, CallResult::Status::not_running);
}

TEST(ControlClient, SendsTheRequestAndReadsTheAnswer) {
  TempDir dir;
  const fs::path sock = dir.path / "control.sock";
  std::string seen;
  {
    OneShotServer server(sock, [&](int fd) {
      seen = read_until_lf(fd);
      write_all(fd, "OK 0ABC queued\n");
    });
    const CallResult r = call(sock, "HOLD 0ABC\n", 5000ms);
    ASSERT_EQ(r.status, CallResult::Status::answered) << r.error;
    EXPECT_TRUE(r.response.ok);
    EXPECT_EQ(r.response.text, "0ABC queued");
  }
  EXPECT_EQ(seen, "HOLD 0ABC\n");
}

TEST(ControlClient, ErrorAnswer) {
  TempDir dir;
  const fs::path sock = dir.path / "control.sock";
  OneShotServer server(sock, [&](int fd) {
    read_until_lf(fd);
    write_all(fd, "ERR nouser x@example.test: User unknown\n");
  });
  const CallResult r = call(sock, "SUBMIT 1 1\n", 5000ms);
  ASSERT_EQ(r.status, CallResult::Status::answered) << r.error;
  EXPECT_FALSE(r.response.ok);
  EXPECT_EQ(r.response.kind, ErrorKind::nouser);
}

TEST(ControlClient, AnswerBeforeTheWholeRequestWasRead) {
  // A refusal after the request line: the server stops reading, and the
  // client, still writing megabytes, must report the refusal.
  TempDir dir;
  const fs::path sock = dir.path / "control.sock";
  OneShotServer server(sock, [&](int fd) {
    read_until_lf(fd);
    write_all(fd, "ERR data message exceeds the maximum message size\n");
    ::shutdown(fd, SHUT_WR);
  });
  const std::string big = "SUBMIT 10 99999999\n" + std::string(8 << 20, 'x');
  const CallResult r = call(sock, big, 10000ms);
  ASSERT_EQ(r.status, CallResult::Status::answered) << r.error;
  EXPECT_EQ(r.response.kind, ErrorKind::data);
}

TEST(ControlClient, SilentServerTimesOut) {
  TempDir dir;
  const fs::path sock = dir.path / "control.sock";
  OneShotServer server(sock, [&](int fd) {
    read_until_lf(fd);
    std::this_thread::sleep_for(400ms);
  });
  const auto start = std::chrono::steady_clock::now();
  const CallResult r = call(sock, "FLUSH\n", 150ms);
  EXPECT_EQ(r.status, CallResult::Status::failed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 350ms);
}

TEST(ControlClient, CloseWithoutAnswerAndGarbageAreFailures) {
  TempDir dir;
  const fs::path sock = dir.path / "control.sock";
  {
    OneShotServer server(sock, [&](int fd) { read_until_lf(fd); });
    EXPECT_EQ(call(sock, "PING\n", 5000ms).status, CallResult::Status::failed);
  }
  fs::remove(sock);
  OneShotServer server(sock, [&](int fd) {
    read_until_lf(fd);
    write_all(fd, "220 hello\n");
  });
  const CallResult r = call(sock, "PING\n", 5000ms);
  EXPECT_EQ(r.status, CallResult::Status::failed);
  EXPECT_NE(r.error.find("unexpected"), std::string::npos);
}

TEST(ControlClient, LongPathsAreReachable) {
  TempDir dir;
  fs::path deep = dir.path;
  while (deep.string().size() < 150) deep /= "a-rather-long-folder-name";
  fs::create_directories(deep);
  const fs::path sock = deep / "control.sock";
  OneShotServer server(sock, [&](int fd) {
    read_until_lf(fd);
    write_all(fd, "OK\n");
  });
  const CallResult r = call(sock, "PING\n", 5000ms);
  ASSERT_EQ(r.status, CallResult::Status::answered) << r.error;
  EXPECT_TRUE(fs::exists(sock));
}

}  // namespace
}  // namespace postern::control
