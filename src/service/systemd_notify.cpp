#include "service/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "obs/log.hpp"

namespace postern::service {
namespace {

std::chrono::microseconds monotonic_now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::nanoseconds(ts.tv_nsec));
}

void report(const std::optional<std::string>& error, std::string_view what) {
  if (error) obs::warning("systemd", "notify={} error=\"{}\"", what, *error);
}

}  // namespace

std::string ready_message(std::string_view status) {
  std::string m = "READY=1\n";
  if (!status.empty()) m += "STATUS=" + std::string(status) + "\n";
  return m;
}

std::string reloading_message(std::chrono::microseconds now) {
  return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(now.count()) + "\n";
}

std::string stopping_message() {
  return "STOPPING=1\n";
}

SystemdNotifier SystemdNotifier::from_environment() {
  const char* name = std::getenv("NOTIFY_SOCKET");
  return SystemdNotifier(name != nullptr ? name : "");
}

std::optional<std::string> SystemdNotifier::send(std::string_view message) const {
  if (socket_.empty()) return std::nullopt;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_.size() >= sizeof addr.sun_path || (socket_[0] != '/' && socket_[0] != '@')) {
    return "NOTIFY_SOCKET is not an absolute path or @abstract name: " + socket_;
  }
  std::memcpy(addr.sun_path, socket_.data(), socket_.size());
  // "@name" is the abstract namespace: a leading NUL, and the length counts
  // exactly the name's bytes (unix(7)).
  if (socket_[0] == '@') addr.sun_path[0] = '\0';
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_.size() +
                                          (socket_[0] == '@' ? 0 : 1));
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  const ssize_t n = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                             reinterpret_cast<const sockaddr*>(&addr), len);
  const int err = errno;
  ::close(fd);
  if (n < 0) return "sendto " + socket_ + ": " + std::strerror(err);
  return std::nullopt;
}

void SystemdNotifier::ready(std::string_view status) const {
  report(send(ready_message(status)), "READY");
}
void SystemdNotifier::reloading() const {
  report(send(reloading_message(monotonic_now())), "RELOADING");
}
void SystemdNotifier::stopping() const {
  report(send(stopping_message()), "STOPPING");
}

}  // namespace postern::service
