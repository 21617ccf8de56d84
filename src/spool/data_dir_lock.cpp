#include "spool/data_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace postern::spool {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

long read_lock_holder(const std::filesystem::path& lock_file) {
  const int fd = ::open(lock_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[32] = {};
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  long pid = 0;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9' && pid < 100000000; ++i) {
    pid = pid * 10 + (buf[i] - '0');
  }
  return pid;
}

std::unique_ptr<DataDirLock> DataDirLock::acquire(const std::filesystem::path& data_dir) {
  const std::filesystem::path path = data_dir / kLockFileName;
  // O_CREAT without O_TRUNC: opening an existing lock file changes nothing
  // in it, so a refused second server leaves every byte as it was.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error("cannot open the lock file " + path.string() + ": " + errno_text());
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      const long pid = read_lock_holder(path);
      throw std::runtime_error("data_dir " + data_dir.string() +
                               " is in use by another postern serve" +
                               (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()) +
                               "; stop that server first, or give this one its own data_dir");
    }
    errno = err;
    throw std::runtime_error("cannot lock " + path.string() + ": " + errno_text());
  }
  // Ours now: record who holds it, for the message above.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    const std::string why = errno_text();
    ::close(fd);
    throw std::runtime_error("cannot write the lock file " + path.string() + ": " + why);
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace postern::spool
