// An LD_PRELOAD shim that makes fsync() and fdatasync() fail with EIO for
// files and folders under one directory, and loses what such a call failed
// to make durable, so that end-to-end tests can prove that the server never
// acknowledges what is not on stable storage
// (tests/e2e/test_group_commit_faults.py).
//
// A failed sync is modelled as the disk losing what it was asked to keep,
// as a power cut after the failure would:
//  - in a regular file, the octets written with pwrite()/pwritev() since its
//    last successful sync become zeros (what the spool's zero-filled room
//    held before), and the file is cut back to the size it had at its last
//    successful sync (0 if it never had one): the bytes written since are
//    gone, whether they grew the file or overwrote it;
//  - a folder loses the files created in it (open with O_CREAT|O_EXCL)
//    since its last successful sync: their names are unlinked.
// So a server that answers 250 despite a failed sync loses that message
// when the test kills and restarts it, and the test sees it missing. A
// server that handles the error (answers 4xx, removes the batch) sees only
// what it expects anyway.
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
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

// dlsym(RTLD_NEXT) finds the libc function this shim stands in front of;
// POSIX guarantees that its result converts to a function pointer.
template <typename Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
}

using SyncFn = int (*)(int);
using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);
using PwritevFn = ssize_t (*)(int, const struct iovec*, int, off_t);
using OpenatFn = int (*)(int, const char*, int, ...);
using UnlinkatFn = int (*)(int, const char*, int);
using UnlinkFn = int (*)(const char*);

PwriteFn real_pwrite() {
  static const auto fn = next<PwriteFn>("pwrite");
  return fn;
}

UnlinkatFn real_unlinkat() {
  static const auto fn = next<UnlinkatFn>("unlinkat");
  return fn;
}

void say(const char* format, ...) __attribute__((format(printf, 1, 2)));
void say(const char* format, ...) {
  char line[PATH_MAX + 128];
  va_list args;
  va_start(args, format);
  const int len = std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  if (len <= 0) return;
  const auto size = std::min(static_cast<std::size_t>(len), sizeof line - 1);
  const ssize_t written = ::write(STDERR_FILENO, line, size);
  (void)written;  // nothing to do about a failed diagnostic
}

// True when `fd` names the fault directory or something below it.
bool under_dir(int fd) {
  const char* dir = std::getenv("POSTERN_FSYNC_FAULT_DIR");
  if (dir == nullptr || dir[0] != '/') return false;
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char target[PATH_MAX];
  const ssize_t n = ::readlink(link, target, sizeof target - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  const std::size_t len = std::strlen(dir);
  return std::strncmp(target, dir, len) == 0 && (target[len] == '\0' || target[len] == '/');
}

std::atomic<unsigned long> affected_calls{0};

// Counts an affected call; returns its number when it is to fail, else 0.
unsigned long should_fail() {
  const unsigned long n = affected_calls.fetch_add(1) + 1;
  bool fail = false;
  if (const char* control = std::getenv("POSTERN_FSYNC_FAULT_CONTROL")) {
    fail = ::access(control, F_OK) == 0;
  }
  if (const char* every = std::getenv("POSTERN_FSYNC_FAULT_EVERY")) {
    const unsigned long k = std::strtoul(every, nullptr, 10);
    fail = fail || (k > 0 && n % k == 0);
  }
  return fail ? n : 0;
}

// ---- what the disk holds: small tables behind one spin lock -------------------

class SpinLock {
 public:
  void lock() {
    while (flag_.test_and_set(std::memory_order_acquire)) {
    }
  }
  void unlock() { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag flag_ = ATOMIC_FLAG_INIT;
};

struct Guard {
  explicit Guard(SpinLock& l) : lock(l) { lock.lock(); }
  ~Guard() { lock.unlock(); }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  SpinLock& lock;
};

SpinLock table_lock;
constexpr std::size_t kSlots = 1024;

// Size of a regular file at its last successful sync.
struct Synced {
  dev_t dev;
  ino_t ino;
  off_t size;
  bool used;
};
Synced synced[kSlots];

// Octets [lo, hi) of a regular file were written since its last successful
// sync (one span per file: the spool writes at increasing offsets).
struct Written {
  dev_t dev;
  ino_t ino;
  off_t lo;
  off_t hi;
  bool used;
};
Written written[kSlots];

// A file created in a folder since the folder's last successful sync.
struct Created {
  dev_t dir_dev;
  ino_t dir_ino;
  char name[NAME_MAX + 1];
  bool used;
};
Created created[kSlots];

template <typename T, typename Match>
T* find(T (&table)[kSlots], Match match) {
  for (T& e : table) {
    if (e.used && match(e)) return &e;
  }
  return nullptr;
}

template <typename T>
T* free_slot(T (&table)[kSlots]) {
  for (T& e : table) {
    if (!e.used) return &e;
  }
  return nullptr;  // full: the test would be far outside what it was made for
}

off_t synced_size(const struct stat& st) {
  Guard g(table_lock);
  const Synced* e =
      find(synced, [&](const Synced& s) { return s.dev == st.st_dev && s.ino == st.st_ino; });
  return e != nullptr ? e->size : 0;
}

void remember_synced(const struct stat& st) {
  Guard g(table_lock);
  Synced* e =
      find(synced, [&](const Synced& s) { return s.dev == st.st_dev && s.ino == st.st_ino; });
  if (e == nullptr) e = free_slot(synced);
  if (e != nullptr) *e = Synced{st.st_dev, st.st_ino, st.st_size, true};
}

void remember_written(int fd, off_t offset, ssize_t n) {
  struct stat st {};
  if (n <= 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  Guard g(table_lock);
  Written* e =
      find(written, [&](const Written& w) { return w.dev == st.st_dev && w.ino == st.st_ino; });
  if (e == nullptr) {
    e = free_slot(written);
    if (e == nullptr) return;
    *e = Written{st.st_dev, st.st_ino, offset, offset + n, true};
    return;
  }
  e->lo = std::min(e->lo, offset);
  e->hi = std::max(e->hi, static_cast<off_t>(offset + n));
}

// Takes the span written since the last sync of this file (and forgets it).
bool take_written(const struct stat& st, off_t& lo, off_t& hi) {
  Guard g(table_lock);
  Written* e =
      find(written, [&](const Written& w) { return w.dev == st.st_dev && w.ino == st.st_ino; });
  if (e == nullptr) return false;
  lo = e->lo;
  hi = e->hi;
  e->used = false;
  return true;
}

// The file is gone: its inode number may come back for a new file.
void forget_file(const struct stat& st) {
  Guard g(table_lock);
  if (Synced* e =
          find(synced, [&](const Synced& s) { return s.dev == st.st_dev && s.ino == st.st_ino; })) {
    e->used = false;
  }
  if (Written* e = find(
          written, [&](const Written& w) { return w.dev == st.st_dev && w.ino == st.st_ino; })) {
    e->used = false;
  }
}

void remember_created(const struct stat& dir, const char* name) {
  if (std::strlen(name) > NAME_MAX) return;
  Guard g(table_lock);
  if (Created* e = free_slot(created)) {
    e->dir_dev = dir.st_dev;
    e->dir_ino = dir.st_ino;
    std::strcpy(e->name, name);
    e->used = true;
  }
}

void forget_created(const struct stat& dir, const char* name) {
  Guard g(table_lock);
  if (Created* e = find(created, [&](const Created& c) {
        return c.dir_dev == dir.st_dev && c.dir_ino == dir.st_ino && std::strcmp(c.name, name) == 0;
      })) {
    e->used = false;
  }
}

// After a sync of folder `dir_fd`: on success its new entries are durable;
// on failure they are lost (unlinked).
void settle_created(int dir_fd, const struct stat& dir, bool lost) {
  Guard g(table_lock);
  for (Created& c : created) {
    if (!c.used || c.dir_dev != dir.st_dev || c.dir_ino != dir.st_ino) continue;
    c.used = false;
    if (!lost) continue;
    struct stat st {};
    if (::fstatat(dir_fd, c.name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      real_unlinkat()(dir_fd, c.name, 0);
      say("fsync_fault: %s lost with its folder's failed sync\n", c.name);
    }
  }
}

const char* last_component(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash == nullptr ? path : slash + 1;
}

// The folder a created `path` (relative to `dirfd`) went into.
bool parent_of(int dirfd, const char* path, struct stat& dir) {
  const char* slash = std::strrchr(path, '/');
  if (slash == nullptr) return ::fstatat(dirfd, ".", &dir, 0) == 0;
  char parent[PATH_MAX];
  const auto len = static_cast<std::size_t>(slash - path);
  if (len >= sizeof parent) return false;
  std::memcpy(parent, path, len);
  parent[len] = '\0';
  return ::fstatat(dirfd, len == 0 ? "/" : parent, &dir, 0) == 0;
}

int fail_sync(int fd, const char* call, unsigned long n) {
  struct stat st {};
  if (::fstat(fd, &st) == 0) {
    if (S_ISREG(st.st_mode)) {
      off_t lo = 0;
      off_t hi = 0;
      if (take_written(st, lo, hi)) {
        static const char zeros[4096] = {};
        for (off_t at = lo; at < hi && at < st.st_size;) {
          const auto len = static_cast<size_t>(
              std::min<off_t>({hi - at, st.st_size - at, static_cast<off_t>(sizeof zeros)}));
          if (real_pwrite()(fd, zeros, len, at) <= 0) break;
          at += static_cast<off_t>(len);
        }
        say("fsync_fault: %s(%d) call %lu: octets %lld to %lld written since the last sync "
            "are lost\n",
            call, fd, n, static_cast<long long>(lo), static_cast<long long>(hi));
      }
      const off_t keep = synced_size(st);
      if (st.st_size > keep && ::ftruncate(fd, keep) == 0) {
        say("fsync_fault: %s(%d) call %lu fails with EIO; file cut from %lld to %lld octets\n",
            call, fd, n, static_cast<long long>(st.st_size), static_cast<long long>(keep));
      } else {
        say("fsync_fault: %s(%d) call %lu fails with EIO\n", call, fd, n);
      }
    } else {
      say("fsync_fault: %s(%d) call %lu fails with EIO (folder)\n", call, fd, n);
      if (S_ISDIR(st.st_mode)) settle_created(fd, st, /*lost=*/true);
    }
  }
  errno = EIO;
  return -1;
}

int sync_call(int fd, SyncFn real, const char* call) {
  if (!under_dir(fd)) return real(fd);
  if (const unsigned long n = should_fail()) return fail_sync(fd, call, n);
  const int r = real(fd);
  struct stat st {};
  if (r == 0 && ::fstat(fd, &st) == 0) {
    if (S_ISREG(st.st_mode)) {
      remember_synced(st);
      off_t lo = 0;
      off_t hi = 0;
      take_written(st, lo, hi);  // durable now
    }
    if (S_ISDIR(st.st_mode)) settle_created(fd, st, /*lost=*/false);
  }
  return r;
}

int open_call(OpenatFn real, int dirfd, const char* path, int flags, mode_t mode) {
  const int fd = real(dirfd, path, flags, mode);
  if (fd >= 0 && (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL) && under_dir(fd)) {
    struct stat dir {};
    if (parent_of(dirfd, path, dir)) remember_created(dir, last_component(path));
  }
  return fd;
}

void before_unlink(int dirfd, const char* path) {
  struct stat st {};
  if (::fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) return;
  if (st.st_nlink <= 1) forget_file(st);
  struct stat dir {};
  if (parent_of(dirfd, path, dir)) forget_created(dir, last_component(path));
}

mode_t mode_arg(int flags, va_list args) {
  // O_TMPFILE includes O_DIRECTORY; both it and O_CREAT carry a mode.
  return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE
             ? static_cast<mode_t>(va_arg(args, int))
             : 0;
}

}  // namespace

extern "C" {

int fsync(int fd) {
  static const auto real = next<SyncFn>("fsync");
  return sync_call(fd, real, "fsync");
}

int fdatasync(int fd) {
  static const auto real = next<SyncFn>("fdatasync");
  return sync_call(fd, real, "fdatasync");
}

int openat(int dirfd, const char* path, int flags, ...) {
  static const auto real = next<OpenatFn>("openat");
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_arg(flags, args);
  va_end(args);
  return open_call(real, dirfd, path, flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  static const auto real = next<OpenatFn>("openat64");
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_arg(flags, args);
  va_end(args);
  return open_call(real, dirfd, path, flags, mode);
}

int open(const char* path, int flags, ...) {
  static const auto real = next<OpenatFn>("openat");
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_arg(flags, args);
  va_end(args);
  return open_call(real, AT_FDCWD, path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  static const auto real = next<OpenatFn>("openat64");
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_arg(flags, args);
  va_end(args);
  return open_call(real, AT_FDCWD, path, flags, mode);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  const ssize_t n = real_pwrite()(fd, buf, count, offset);
  if (n > 0 && under_dir(fd)) remember_written(fd, offset, n);
  return n;
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) {
  return pwrite(fd, buf, count, offset);
}

ssize_t pwritev(int fd, const struct iovec* iov, int count, off_t offset) {
  static const auto real = next<PwritevFn>("pwritev");
  const ssize_t n = real(fd, iov, count, offset);
  if (n > 0 && under_dir(fd)) remember_written(fd, offset, n);
  return n;
}

ssize_t pwritev64(int fd, const struct iovec* iov, int count, off_t offset) {
  return pwritev(fd, iov, count, offset);
}

int unlinkat(int dirfd, const char* path, int flags) {
  if ((flags & AT_REMOVEDIR) == 0) before_unlink(dirfd, path);
  return real_unlinkat()(dirfd, path, flags);
}

int unlink(const char* path) {
  static const auto real = next<UnlinkFn>("unlink");
  before_unlink(AT_FDCWD, path);
  return real(path);
}

}  // extern "C"
