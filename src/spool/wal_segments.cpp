#include "spool/wal_spool.hpp"

namespace postern::spool::wal {

std::error_code errno_code() {
  return {errno, std::system_category()};
}

bool has_pending(const QueuedMessage& m) {
  return std::any_of(m.recipients.begin(), m.recipients.end(),
                     [](const RecipientStatus& r) { return r.state == RecipientState::pending; });
}

// Writes every buffer at `offset` onwards, resuming after short writes.
std::error_code pwritev_all(int fd, std::vector<iovec>& iov, std::uint64_t offset) {
  std::size_t i = 0;
  for (;;) {
    while (i < iov.size() && iov[i].iov_len == 0) ++i;
    if (i == iov.size()) return {};
    const int count = static_cast<int>(std::min<std::size_t>(iov.size() - i, IOV_MAX));
    ssize_t n = ::pwritev(fd, &iov[i], count, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_code();
    }
    offset += static_cast<std::uint64_t>(n);
    auto left = static_cast<std::size_t>(n);
    while (left > 0) {
      const std::size_t take = std::min(left, iov[i].iov_len);
      iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + take;
      iov[i].iov_len -= take;
      left -= take;
      if (iov[i].iov_len == 0) ++i;
    }
  }
}

std::error_code pwrite_all(int fd, std::string_view bytes, std::uint64_t offset) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_code();
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

iovec iov_of(std::string_view s) {
  return iovec{const_cast<char*>(s.data()), s.size()};  // writev does not write to it
}

void WalSpool::drop_damaged(const std::string& id) {
  std::shared_ptr<Segment> segment;
  {
    std::lock_guard lock(index_mutex_);
    const auto it = index_.find(id);
    if (it == index_.end()) return;
    segment = it->second.segment;
  }
  obs::error("spool",
             "id={} segment={} error=\"message body fails its checksum; kept in "
             "corrupt/ and not delivered\"",
             id, segment->name);
  keep_evidence(segment->name);
  std::lock_guard seg_lock(segment->mutex);
  finish_locked(*segment, id, nullptr);
}

// After a durable state change: updates the index, or drops the message
// when `still_queued` is null, unlinking the segment once nothing in it is
// queued. The caller holds segment.mutex.
void WalSpool::finish_locked(Segment& segment, const std::string& id,
                             const QueuedMessage* still_queued) {
  bool unlink_segment = false;
  {
    std::lock_guard lock(index_mutex_);
    const auto it = index_.find(id);
    if (it == index_.end()) return;
    if (still_queued != nullptr) {
      it->second.message = *still_queued;
      return;
    }
    index_.erase(it);
    unlink_segment = --segment.live == 0;
  }
  // No directory fsync: if this unlink is lost in a crash, every message in
  // the segment is already durably finished and recovery unlinks it again.
  // Should it be the segment the writer appends to, the writer sees the
  // flag and starts a new one.
  if (unlink_segment) {
    segment.unlinked = true;
    ::unlink((queue_dir_ / segment.name).c_str());
  }
}

// Appends one record after the segment's last valid record, durably.
// The caller holds segment.mutex.
std::error_code WalSpool::append(Segment& segment, std::string_view record) {
  std::error_code ec = fault("update_write");
  Fd fd;
  if (!ec) {
    fd = Fd(::open((queue_dir_ / segment.name).c_str(), O_WRONLY | O_CLOEXEC));
    if (fd.get() < 0) ec = errno_code();
  }
  if (!ec) ec = pwrite_all(fd.get(), record, segment.end);
  if (!ec && segment.dirty_tail &&
      ::ftruncate(fd.get(), static_cast<off_t>(segment.end + record.size())) != 0) {
    ec = errno_code();
  }
  if (!ec && segment.dirty_tail) segment.size = segment.end + record.size();
  if (!ec) ec = fault("update_fsync");
  if (!ec && !options_.unsafe_no_fsync && ::fdatasync(fd.get()) != 0) ec = errno_code();
  if (ec && fd.get() >= 0) {
    // The caller is told this change did not happen, so take back what
    // may have reached the file (recovery would otherwise read it).
    if (::ftruncate(fd.get(), static_cast<off_t>(segment.end)) == 0) {
      segment.size = segment.end;
      if (!options_.unsafe_no_fsync) ::fdatasync(fd.get());
    }
  }
  if (fd.get() >= 0) {
    const std::error_code close_ec = fd.close();
    if (!ec) ec = close_ec;
  }
  if (ec) {
    // Should the truncation not have stuck, the bytes after `end` are not
    // a confirmed record; the next append overwrites them and cuts there.
    segment.dirty_tail = true;
    obs::error("spool", "segment={} error=\"cannot record delivery state: {}\"", segment.name,
               ec.message());
    return ec;
  }
  segment.end += record.size();
  segment.size = std::max(segment.size, segment.end);
  segment.dirty_tail = false;
  return {};
}

// Group commit of state records. Each delivery result used to cost its own
// pwrite and fdatasync under the segment's mutex, so deliveries finishing
// together queued behind each other's syncs (and behind the writer's
// batches to the same segment): at c=10 into one Maildir, one fdatasync per
// delivered message. Now whoever finds no write under way takes every
// record queued for the segment, appends them with one pwrite and one
// fdatasync, and wakes their owners; records queued meanwhile go in the
// next group. Their order in the file is the order they were queued, and
// one message's records never share a group (its updates are serialised
// by the queue runner's per-message lock), so the last one still wins.
void WalSpool::write_state(Segment& segment, StateWrite& w) {
  {
    // The segment the writer thread appends to: the record rides with the
    // writer's next batch of new messages (or goes alone if none comes),
    // so accepting and delivering share one fdatasync instead of taking
    // turns at the segment's mutex.
    std::unique_lock lock(queue_mutex_);
    // (Never from the writer thread itself, e.g. a commit callback: it
    // would wait for its own next round.)
    if (segment.writer_appends && !stopping_ && writer_.joinable() &&
        std::this_thread::get_id() != writer_.get_id()) {
      state_queue_.push_back(QueuedState{&segment, &w});
      queue_cv_.notify_one();
      state_done_cv_.wait(lock, [&] { return w.done; });
      return;
    }
  }
  std::unique_lock lock(segment.writes_mutex);
  segment.writes.push_back(&w);
  while (!w.done) {
    if (segment.writing) {
      segment.writes_cv.wait(lock);
      continue;
    }
    segment.writing = true;
    std::vector<StateWrite*> group;
    group.swap(segment.writes);
    lock.unlock();
    append_states(segment, group);
    lock.lock();
    for (StateWrite* g : group) g->done = true;
    segment.writing = false;
    segment.writes_cv.notify_all();
  }
}

void WalSpool::append_states(Segment& segment, const std::vector<StateWrite*>& group) {
  std::string bytes;
  for (const StateWrite* g : group) bytes += g->record;
  std::lock_guard seg_lock(segment.mutex);
  // The whole group is one append: it is durable, or taken back, as one.
  const std::error_code ec = append(segment, bytes);
  for (StateWrite* g : group) {
    g->error = ec;
    if (!ec) finish_locked(segment, g->id, g->still_queued ? &*g->still_queued : nullptr);
  }
}

// Stops appending batches to the open segment and gives back the zeros
// written ahead (if that truncation is lost in a crash, recovery reads
// the zeros as the end of the log). Called with commit_mutex_ and the
// segment's mutex held.
void WalSpool::close_open_segment_locked() {
  Segment& segment = *open_.segment;
  segment.writer_appends = false;
  if (!segment.unlinked && !segment.dirty_tail && segment.size > segment.end &&
      ::ftruncate(open_.file.get(), static_cast<off_t>(segment.end)) == 0) {
    segment.size = segment.end;
  }
  open_ = OpenSegment{};
}

// The open segment is still the file at its place in queue/: if it or the
// folder was moved, replaced or removed meanwhile, what was just written
// is not where the next start will look for it.
std::error_code WalSpool::still_in_queue(const Segment& segment) const {
  struct stat now {};
  if (::stat((queue_dir_ / segment.name).c_str(), &now) != 0) return errno_code();
  if (now.st_dev != open_.dev || now.st_ino != open_.ino) {
    return std::make_error_code(std::errc::no_such_file_or_directory);
  }
  return {};
}

// The segment went into the folder that is still at queue_dir_: if the
// folder was moved or replaced meanwhile, the new file is not where the
// next start will look for it.
std::error_code WalSpool::same_directory(int dir_fd) const {
  struct stat opened {};
  struct stat now {};
  if (::fstat(dir_fd, &opened) != 0) return errno_code();
  if (::stat(queue_dir_.c_str(), &now) != 0) return errno_code();
  if (opened.st_dev != now.st_dev || opened.st_ino != now.st_ino) {
    return std::make_error_code(std::errc::no_such_file_or_directory);
  }
  return {};
}

}  // namespace postern::spool::wal
