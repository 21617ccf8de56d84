#include "spool/wal_spool.hpp"

namespace postern::spool::wal {

// Creates a directory with mode 0700 and makes its entry durable.
std::error_code WalSpool::make_dir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) {
    const int fd = ::open(dir.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    return {};
  }
  if (errno != EEXIST) return errno_code();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return errno_code();
  if (!S_ISDIR(st.st_mode)) return std::make_error_code(std::errc::not_a_directory);
  return {};
}

std::error_code WalSpool::ensure_layout() const {
  std::error_code ec;
  if (!root_.parent_path().empty()) fs::create_directories(root_.parent_path(), ec);
  if (ec) return ec;
  for (const fs::path& d : {root_, queue_dir_, corrupt_dir_}) {
    if ((ec = make_dir(d))) return ec;
  }
  return {};
}

void WalSpool::quarantine(const fs::path& file, const std::string& reason) {
  const fs::path target = corrupt_dir_ / file.filename();
  if (::rename(file.c_str(), target.c_str()) != 0) {
    obs::error("spool", "file={} error=\"cannot move to corrupt/: {}\"", file.string(),
               errno_code().message());
    return;
  }
  obs::warning("quarantine", "file={} moved_to={} reason=\"{}\"", file.filename().string(),
               target.string(), reason);
}

// Rebuilds the index from the segments; moves what was never acknowledged
// or is not ours to corrupt/, and deletes segments with nothing left.
void WalSpool::recover() {
  std::size_t messages = 0;
  std::size_t segments = 0;
  std::size_t quarantined = 0;
  std::vector<fs::path> files;
  for (const auto& de : fs::directory_iterator(queue_dir_)) files.push_back(de.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    const std::string name = file.filename().string();
    const bool named_right =
        name.size() > kSegmentSuffix.size() && name.ends_with(kSegmentSuffix) &&
        is_queue_id(std::string_view(name).substr(0, name.size() - kSegmentSuffix.size()));
    std::error_code ec;
    if (!named_right || !fs::is_regular_file(fs::symlink_status(file, ec))) {
      quarantine(file, "not a spool segment");
      ++quarantined;
      continue;
    }
    SegmentScan scan = scan_segment(file, /*verify_data=*/true);
    if (!scan.committed) {
      quarantine(file, scan.problem);
      ++quarantined;
      continue;
    }
    auto segment = std::make_shared<Segment>();
    segment->name = name;
    segment->end = scan.valid_end;
    segment->size = fs::file_size(file, ec);
    // Zeros written ahead are room, not damage.
    segment->dirty_tail = !only_zeros_after(file, scan.valid_end);
    if (segment->dirty_tail) {
      // A crash during a batch or an append: those bytes were never
      // confirmed to anyone. The next append to this segment overwrites
      // them.
      obs::warning("spool", "segment={} ignored_after={} reason=\"{}\"", name, scan.valid_end,
                   scan.problem.empty() ? "torn append, never confirmed" : scan.problem);
    }
    bool damaged = false;
    for (SegmentMessage& m : scan.messages) {
      if (!m.data_ok) {
        damaged = true;
        obs::error("spool",
                   "id={} segment={} error=\"message body fails its checksum; kept in "
                   "corrupt/ and not delivered\"",
                   m.message.id, name);
        continue;
      }
      if (m.removed || !has_pending(m.message)) continue;
      const std::string id = m.message.id;  // the right side is evaluated (and moved) first
      index_[id] = Entry{segment, m.data_offset, std::move(m.message)};
      ++segment->live;
      ++messages;
    }
    if (damaged) keep_evidence(name);
    if (segment->live == 0) {
      ::unlink(file.c_str());
    } else {
      ++segments;
    }
  }
  obs::event("spool", "recovered={} segments={} quarantined={} dir={}", messages, segments,
             quarantined, root_.string());
}

// A hard link in corrupt/ keeps a damaged segment for inspection after the
// queue is done with its healthy messages.
void WalSpool::keep_evidence(const std::string& name) {
  const fs::path from = queue_dir_ / name;
  const fs::path to = corrupt_dir_ / name;
  if (::link(from.c_str(), to.c_str()) != 0 && errno != EEXIST) {
    obs::error("spool", "segment={} error=\"cannot link into corrupt/: {}\"", name,
               errno_code().message());
  }
}

// Reads every segment from disk (read-only mode). Keyed by queue id.
std::map<std::string, Entry> WalSpool::scan_disk() const {
  std::map<std::string, Entry> out;
  std::error_code ec;
  for (const auto& de : fs::directory_iterator(queue_dir_, ec)) {
    const std::string name = de.path().filename().string();
    if (!name.ends_with(kSegmentSuffix)) continue;
    SegmentScan scan = scan_segment(de.path(), /*verify_data=*/false);
    if (!scan.committed) continue;  // being written right now, or torn
    auto segment = std::make_shared<Segment>();
    segment->name = name;
    for (SegmentMessage& m : scan.messages) {
      if (m.removed || !has_pending(m.message)) continue;
      const std::string id = m.message.id;
      out[id] = Entry{segment, m.data_offset, std::move(m.message)};
    }
  }
  return out;
}

}  // namespace postern::spool::wal
