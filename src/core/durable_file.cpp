#include "core/durable_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <sstream>

namespace postern {
namespace {

std::error_code last_error() {
  return {errno, std::system_category()};
}

// Temp names must not collide between threads or processes writing the same
// target, so they carry the pid and a process-wide counter.
std::string temp_name_for(const std::filesystem::path& path) {
  static std::atomic<unsigned long> counter{0};
  return path.string() + ".tmp." + std::to_string(::getpid()) + "." +
         std::to_string(counter.fetch_add(1));
}

}  // namespace

std::error_code fsync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return last_error();
  std::error_code ec;
  if (::fsync(fd) != 0) ec = last_error();
  ::close(fd);
  return ec;
}

std::error_code write_file_durably(const std::filesystem::path& path, std::string_view data,
                                   unsigned mode) {
  const std::string tmp = temp_name_for(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return last_error();
  std::error_code ec;
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      ec = last_error();
      break;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (!ec && ::fsync(fd) != 0) ec = last_error();
  if (::close(fd) != 0 && !ec) ec = last_error();
  if (!ec && ::rename(tmp.c_str(), path.c_str()) != 0) ec = last_error();
  if (ec) {
    ::unlink(tmp.c_str());
    return ec;
  }
  const auto parent = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  return fsync_directory(parent);
}

bool read_file(const std::filesystem::path& path, std::string& out, std::error_code& ec) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ec = std::make_error_code(std::errc::no_such_file_or_directory);
    if (std::filesystem::exists(path)) ec = std::make_error_code(std::errc::permission_denied);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = std::move(ss).str();
  ec.clear();
  return true;
}

}  // namespace postern
