#include "control/control_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/fd.hpp"

namespace postern::control {
namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

// Waits until `fd` is ready for `events`; false on timeout or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

std::string reachable_socket_path(const std::filesystem::path& socket_path, int& dir_fd) {
  dir_fd = -1;
  const std::string text = socket_path.string();
  if (text.size() < sizeof(sockaddr_un{}.sun_path)) return text;
  const std::filesystem::path dir =
      socket_path.has_parent_path() ? socket_path.parent_path() : std::filesystem::path(".");
  dir_fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return {};
  std::string shorter =
      "/proc/self/fd/" + std::to_string(dir_fd) + "/" + socket_path.filename().string();
  if (shorter.size() >= sizeof(sockaddr_un{}.sun_path)) {
    ::close(dir_fd);
    dir_fd = -1;
    return {};
  }
  return shorter;
}

CallResult call(const std::filesystem::path& socket_path, std::string_view request,
                std::chrono::milliseconds timeout) {
  CallResult result;
  const Clock::time_point deadline = Clock::now() + timeout;

  int dir_fd = -1;
  const std::string path = reachable_socket_path(socket_path, dir_fd);
  const Fd dir_guard(dir_fd);
  if (path.empty()) {
    result.status = CallResult::Status::not_running;
    result.error = "cannot reach " + socket_path.string();
    return result;
  }

  const Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) {
    result.error = "socket: " + errno_text(errno);
    return result;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ECONNREFUSED || err == ENOTDIR) {
      result.status = CallResult::Status::not_running;
    }
    result.error = "cannot connect to " + socket_path.string() + ": " + errno_text(err);
    return result;
  }

  // Write everything unless the server answers first (a refusal stops
  // reading on its side, and then our writes fail with EPIPE).
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd.get(), POLLOUT | POLLIN, 0};
      const int ready = ::poll(&p, 1, remaining_ms(deadline));
      if (ready == 0) {
        result.error = "timed out sending the request to " + socket_path.string();
        return result;
      }
      // An answer (or a hang-up) arrived before we finished: read it.
      if (ready > 0 && (p.revents & (POLLIN | POLLHUP)) != 0 && (p.revents & POLLOUT) == 0) break;
      continue;
    }
    break;  // EPIPE, ECONNRESET: the server stopped reading; read its answer
  }

  std::string line;
  char buf[512];
  for (;;) {
    if (!wait_for(fd.get(), POLLIN, deadline)) {
      result.error = "no answer from " + socket_path.string() + " within " +
                     std::to_string(timeout.count() / 1000) + "s";
      return result;
    }
    const ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      result.error = "reading the answer: " + errno_text(errno);
      return result;
    }
    if (n == 0) {
      result.error = "the server closed the connection without answering";
      return result;
    }
    line.append(buf, static_cast<std::size_t>(n));
    const std::size_t lf = line.find('\n');
    if (lf != std::string::npos) {
      line.resize(lf);
      break;
    }
    if (line.size() > kMaxResponseLine) {
      result.error = "the server's answer is too long";
      return result;
    }
  }
  auto response = parse_response_line(line);
  if (!response) {
    result.error = "unexpected answer from the server: " + line.substr(0, 200);
    return result;
  }
  result.status = CallResult::Status::answered;
  result.response = std::move(*response);
  return result;
}

}  // namespace postern::control
