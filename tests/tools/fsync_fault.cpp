// An LD_PRELOAD shim that makes fsync() and fdatasync() fail with EIO for
// files and folders under one directory, so that end-to-end tests can prove
// what the server answers when the disk refuses to make data durable
// (tests/e2e/test_group_commit_faults.py). The data itself is written
// normally: what fails is only the promise that it is on stable storage,
// which is the case a spool must not answer 250 for.
//
// Environment:
//   POSTERN_FSYNC_FAULT_DIR      absolute path; only descriptors whose
//                                /proc/self/fd link is this path or below it
//                                are affected (required, else nothing fails)
//   POSTERN_FSYNC_FAULT_CONTROL  a file; calls fail while it exists (checked
//                                at each call: a test switches failures on
//                                and off while the server runs)
//   POSTERN_FSYNC_FAULT_EVERY    N; every Nth affected call fails (counted
//                                over affected calls, process-wide)
// Every failure is reported on stderr ("fsync_fault: ...") so the server log
// shows which calls were made to fail.
#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

using SyncFn = int (*)(int);

std::atomic<unsigned long> affected_calls{0};

// True when `fd` names `dir` or something below it.
bool under_dir(int fd, const char* dir) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char target[PATH_MAX];
  const ssize_t n = ::readlink(link, target, sizeof target - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  const std::size_t len = std::strlen(dir);
  return std::strncmp(target, dir, len) == 0 && (target[len] == '\0' || target[len] == '/');
}

bool should_fail(int fd, const char* call) {
  const char* dir = std::getenv("POSTERN_FSYNC_FAULT_DIR");
  if (dir == nullptr || dir[0] != '/' || !under_dir(fd, dir)) return false;
  const unsigned long n = affected_calls.fetch_add(1) + 1;
  bool fail = false;
  if (const char* control = std::getenv("POSTERN_FSYNC_FAULT_CONTROL")) {
    fail = ::access(control, F_OK) == 0;
  }
  if (const char* every = std::getenv("POSTERN_FSYNC_FAULT_EVERY")) {
    const unsigned long k = std::strtoul(every, nullptr, 10);
    fail = fail || (k > 0 && n % k == 0);
  }
  if (fail) {
    char line[128];
    const int len = std::snprintf(line, sizeof line,
                                  "fsync_fault: %s(%d) call %lu fails with EIO\n", call, fd, n);
    if (len > 0) {
      const ssize_t written = ::write(STDERR_FILENO, line, static_cast<std::size_t>(len));
      (void)written;  // nothing to do about a failed diagnostic
    }
  }
  return fail;
}

SyncFn next(const char* name) {
  // POSIX guarantees that a dlsym() result converts to a function pointer.
  return reinterpret_cast<SyncFn>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" int fsync(int fd) {
  static const SyncFn real = next("fsync");
  if (should_fail(fd, "fsync")) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

extern "C" int fdatasync(int fd) {
  static const SyncFn real = next("fdatasync");
  if (should_fail(fd, "fdatasync")) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}
