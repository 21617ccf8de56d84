// A file descriptor that is closed when its owner goes: the one RAII handle
// for raw descriptors (spool segments, the control socket client).
#pragma once

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace postern {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.fd_;
      other.fd_ = -1;
    }
    return *this;
  }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Closes now and says whether close() failed: on some file systems it
  // reports a write error that was deferred until then.
  std::error_code close() {
    std::error_code ec;
    if (fd_ >= 0 && ::close(fd_) != 0) ec = std::error_code(errno, std::system_category());
    fd_ = -1;
    return ec;
  }
  // Closes now, ignoring the result.
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

}  // namespace postern
