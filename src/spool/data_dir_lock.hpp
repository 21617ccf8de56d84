// One server per data_dir. Two `postern serve` on one data_dir would both
// recover the spool (moving or unlinking segments the other one writes) and
// both deliver what is due, so a message could go out twice. The first
// server takes an exclusive flock(2) on <data_dir>/postern.lock before
// anything touches the spool and holds it until it exits; a second one
// finds it taken, changes nothing and says which process holds it.
//
// flock is released by the kernel when the process dies (kill -9 included),
// so a stale lock file never blocks a restart; the pid written into the
// file is only there to name the holder in the message.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace postern::spool {

inline constexpr const char* kLockFileName = "postern.lock";

class DataDirLock {
 public:
  // Takes the lock; throws std::runtime_error naming the running server's
  // pid when another process holds it, or the I/O error otherwise. The
  // data_dir must exist.
  static std::unique_ptr<DataDirLock> acquire(const std::filesystem::path& data_dir);
  ~DataDirLock();  // releases the lock (the file stays, holding our old pid)
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The pid recorded in a lock file, or 0 when it holds none.
long read_lock_holder(const std::filesystem::path& lock_file);

}  // namespace postern::spool
