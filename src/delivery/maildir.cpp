#include "delivery/maildir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "core/durable_file.hpp"

namespace postern::delivery {
namespace {

namespace fs = std::filesystem;

std::error_code errno_code() {
  return {errno, std::system_category()};
}

// One path component that cannot climb out of its folder, hide itself or
// smuggle bytes a shell or a log would misread.
bool safe_component(std::string_view part) {
  if (part.empty() || part.size() > NAME_MAX || part.front() == '.') return false;
  for (const char c : part) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || u < 0x20 || u == 0x7F) return false;
  }
  return true;
}

// Deliveries that link into the same new/ at about the same time share one
// fsync of it (group commit, like the spool's): a delivery needs a sync
// that began after its link(), and one sync covers every link made before
// it began. While one sync runs, later arrivals wait and the first of them
// to wake runs the next one for all of them.
class FolderSyncs {
 public:
  std::error_code sync(const fs::path& dir) {
    std::unique_lock lock(mutex_);
    Folder& f = folders_[dir.string()];
    ++f.waiting;
    // The sync running now (if any) may have begun before our link.
    const std::uint64_t need = f.started + 1;
    while (f.completed < need) {
      if (f.running) {
        cv_.wait(lock);
        continue;
      }
      f.running = true;
      const std::uint64_t generation = ++f.started;
      lock.unlock();
      const std::error_code ec = fsync_directory(dir);
      lock.lock();
      f.running = false;
      f.completed = generation;
      if (ec) {
        f.failed = generation;
        f.error = ec;
      }
      cv_.notify_all();
    }
    // Any failure of a sync that was to cover us counts (conservative: the
    // caller takes its file back and the message is tried again).
    const std::error_code result = f.failed >= need ? f.error : std::error_code{};
    if (--f.waiting == 0 && !f.running) folders_.erase(dir.string());
    return result;
  }

 private:
  struct Folder {
    std::uint64_t started = 0;    // syncs begun
    std::uint64_t completed = 0;  // the last one that ended (they run one at a time)
    std::uint64_t failed = 0;     // the last one that failed
    std::error_code error;
    bool running = false;
    std::size_t waiting = 0;
  };
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, Folder> folders_;
};

FolderSyncs& folder_syncs() {
  static FolderSyncs syncs;
  return syncs;
}

// mkdir -p with mode 0700; each folder created is made durable in its parent,
// so a delivered message cannot vanish with a folder that was never synced.
std::error_code make_dirs(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    return S_ISDIR(st.st_mode) ? std::error_code{}
                               : std::make_error_code(std::errc::not_a_directory);
  }
  if (errno != ENOENT) return errno_code();
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    if (const std::error_code ec = make_dirs(dir.parent_path())) return ec;
  }
  if (::mkdir(dir.c_str(), 0700) != 0) {
    return errno == EEXIST ? std::error_code{} : errno_code();
  }
  return fsync_directory(dir.has_parent_path() ? dir.parent_path() : fs::path("."));
}

// The Maildir spec asks for '/' and ':' in the host name to be encoded, since
// '/' would make a path and ':' starts the info part of a name in cur/.
std::string maildir_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string out;
  for (const char* p = buf; *p != '\0'; ++p) {
    if (*p == '/') {
      out += "\\057";
    } else if (*p == ':') {
      out += "\\072";
    } else {
      out += *p;
    }
  }
  return out;
}

// Header values from the envelope must not be able to start a new line.
std::string one_line(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c != '\r' && c != '\n' && c != '\0') out += c;
  }
  return out;
}

std::error_code write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_code();
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

fs::path maildir_for(const fs::path& mail_root, std::string_view address) {
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  const std::string_view local = address.substr(0, at);
  std::string domain(address.substr(at + 1));
  for (char& c : domain) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!safe_component(local) || !safe_component(domain)) return {};
  return mail_root / domain / std::string(local);
}

namespace {

// Maildir readers expect LF line ends; SMTP gave us CRLF.
std::string maildir_content(std::string_view return_path, std::string_view delivered_to,
                            std::string_view data) {
  std::string content = fmt::format("Return-Path: <{}>\nDelivered-To: {}\n", one_line(return_path),
                                    one_line(delivered_to));
  content.reserve(content.size() + data.size());
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\r' && i + 1 < data.size() && data[i + 1] == '\n') continue;
    content += data[i];
  }
  return content;
}

std::error_code make_maildir(const fs::path& mailbox) {
  for (const char* sub : {"cur", "new", "tmp"}) {
    if (const std::error_code ec = make_dirs(mailbox / sub)) return ec;
  }
  return {};
}

enum class Placed { linked, exists, failed };

// Writes `content` to tmp/<name>, fsyncs it and links it to new/<name>.
// The link fails rather than overwrite, which tells the caller that the
// name is taken.
Placed place(const fs::path& mailbox, const std::string& name, std::string_view content,
             bool exclusive_tmp, std::error_code& ec) {
  const fs::path tmp = mailbox / "tmp" / name;
  const fs::path dest = mailbox / "new" / name;
  // A deterministic name may meet the tmp file of an attempt that died
  // half-way (kill -9): that one was never linked and is overwritten.
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive_tmp ? O_EXCL : O_TRUNC);
  int fd = ::open(tmp.c_str(), flags, 0600);
  if (fd < 0 && errno == ENOENT) {
    // A new mailbox (or one removed meanwhile): its folders are made here,
    // on the first delivery, rather than checked (three stats) on every one.
    if ((ec = make_maildir(mailbox))) return Placed::failed;
    fd = ::open(tmp.c_str(), flags, 0600);
  }
  if (fd < 0) {
    if (errno == EEXIST) return Placed::exists;
    ec = errno_code();
    return Placed::failed;
  }
  ec = write_all(fd, content);
  if (!ec && ::fsync(fd) != 0) ec = errno_code();
  if (::close(fd) != 0 && !ec) ec = errno_code();
  if (!ec && ::link(tmp.c_str(), dest.c_str()) != 0) {
    ec = errno_code();
    // new/ alone went missing: made again (durably), then linked.
    if (ec == std::errc::no_such_file_or_directory && !(ec = make_maildir(mailbox)) &&
        ::link(tmp.c_str(), dest.c_str()) != 0) {
      ec = errno_code();
    }
  }
  ::unlink(tmp.c_str());
  if (ec == std::errc::file_exists) {
    ec.clear();
    return Placed::exists;
  }
  if (ec) return Placed::failed;
  if ((ec = folder_syncs().sync(mailbox / "new"))) {
    // Not known to be durable: take it back so a retry does not duplicate.
    ::unlink(dest.c_str());
    return Placed::failed;
  }
  return Placed::linked;
}

// A file in cur/ whose name is `name` followed by the info part (":2,...",
// the Maildir convention for flags set by a reader).
fs::path find_in_cur(const fs::path& mailbox, std::string_view name) {
  std::error_code ec;
  for (fs::directory_iterator it(mailbox / "cur", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() > name.size() && file.compare(0, name.size(), name) == 0 &&
        file[name.size()] == ':') {
      return it->path();
    }
  }
  return {};
}

}  // namespace

fs::path junk_folder(const fs::path& mailbox, std::error_code& error) {
  error.clear();
  if (mailbox.empty()) {
    error = std::make_error_code(std::errc::invalid_argument);
    return {};
  }
  const fs::path folder = mailbox / ".Junk";
  if ((error = make_maildir(folder))) return {};
  const fs::path marker = folder / "maildirfolder";
  struct stat st {};
  if (::stat(marker.c_str(), &st) != 0) {
    const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      error = errno_code();
      return {};
    }
    ::close(fd);
    if ((error = fsync_directory(folder))) return {};
  }
  return folder;
}

MaildirResult deliver_to_maildir(const fs::path& mailbox, std::string_view return_path,
                                 std::string_view delivered_to, std::string_view data) {
  MaildirResult result;
  if (mailbox.empty()) {
    result.error = std::make_error_code(std::errc::invalid_argument);
    return result;
  }
  const std::string content = maildir_content(return_path, delivered_to, data);

  static const std::string host = maildir_hostname();
  static std::atomic<unsigned long> counter{0};
  // A link() onto an existing name fails instead of overwriting, so a name
  // clash (another process, a clock step) is retried with the next counter.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now);
    const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(now - secs);
    const std::string name = fmt::format("{}.M{}P{}Q{}.{},S={}", secs.count(), usec.count(),
                                         ::getpid(), counter.fetch_add(1), host, content.size());
    switch (place(mailbox, name, content, true, result.error)) {
      case Placed::linked:
        result.file = mailbox / "new" / name;
        return result;
      case Placed::exists:
        continue;
      case Placed::failed:
        return result;
    }
  }
  result.error = std::make_error_code(std::errc::file_exists);
  return result;
}

std::string maildir_unique_name(std::int64_t arrival_seconds, std::string_view queue_id,
                                std::size_t recipient_index) {
  static const std::string host = maildir_hostname();
  return fmt::format("{}.{}_{}.{}", arrival_seconds, queue_id, recipient_index, host);
}

MaildirResult deliver_once_to_maildir(const fs::path& mailbox, std::string_view unique,
                                      bool look_in_cur, std::string_view return_path,
                                      std::string_view delivered_to, std::string_view data) {
  MaildirResult result;
  if (mailbox.empty() || unique.empty() || unique.find('/') != std::string_view::npos ||
      unique.find(':') != std::string_view::npos) {
    result.error = std::make_error_code(std::errc::invalid_argument);
    return result;
  }
  // The folders are made by place() when its file cannot be created.
  const std::string content = maildir_content(return_path, delivered_to, data);
  const std::string name = fmt::format("{},S={}", unique, content.size());

  // Checked before writing, so a redelivery costs a stat, not the message.
  struct stat st {};
  if (::stat((mailbox / "new" / name).c_str(), &st) == 0) {
    result.already = true;
    result.file = mailbox / "new" / name;
    return result;
  }
  if (look_in_cur) {
    if (fs::path seen = find_in_cur(mailbox, name); !seen.empty()) {
      result.already = true;
      result.file = std::move(seen);
      return result;
    }
  }
  switch (place(mailbox, name, content, false, result.error)) {
    case Placed::linked:
      result.file = mailbox / "new" / name;
      break;
    case Placed::exists:
      result.already = true;
      result.file = mailbox / "new" / name;
      break;
    case Placed::failed:
      break;
  }
  return result;
}

}  // namespace postern::delivery
