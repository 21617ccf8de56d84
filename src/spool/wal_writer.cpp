#include "spool/wal_spool.hpp"

namespace postern::spool::wal {

// Adds buffers of zeros for `n` octets.
void add_zeros(std::vector<iovec>& iov, std::uint64_t n) {
  while (n > 0) {
    const std::size_t take = n < kZeroChunk ? static_cast<std::size_t>(n) : kZeroChunk;
    iov.push_back(iovec{const_cast<char*>(kZeros), take});  // pwritev does not write to it
    n -= take;
  }
}

// The file size to grow to when a batch ends at `end`.
std::uint64_t grown_size(std::uint64_t end) {
  return (end / kZeroAhead + 1) * kZeroAhead;
}

void WalSpool::writer_loop() {
  std::vector<Pending> batch;
  std::vector<QueuedState> states;
  std::unique_lock lock(queue_mutex_);
  for (;;) {
    queue_cv_.wait(lock, [this] { return !queue_.empty() || !state_queue_.empty() || stopping_; });
    if (queue_.empty() && state_queue_.empty()) {
      // Stopping, and everything submitted is done.
      std::lock_guard commit_lock(commit_mutex_);
      if (const std::shared_ptr<Segment> segment = open_.segment) {
        std::lock_guard segment_lock(segment->mutex);
        close_open_segment_locked();
      }
      // Stopping: write_state() no longer hands records over.
      return;
    }
    std::size_t bytes = 0;
    while (!queue_.empty() && batch.size() < options_.max_batch &&
           (batch.empty() || bytes + queue_.front().data.size() <= kMaxBatchBytes)) {
      bytes += queue_.front().data.size();
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    states.swap(state_queue_);
    lock.unlock();
    {
      std::lock_guard commit_lock(commit_mutex_);
      commit(batch, states);
    }
    batch.clear();
    lock.lock();
    if (!states.empty()) {
      for (const QueuedState& q : states) q.write->done = true;
      states.clear();
      state_done_cv_.notify_all();
    }
  }
}

// One group commit: the batch appended to a segment and made durable,
// then every callback. No callback reports success unless every step
// succeeded.
void WalSpool::commit(std::vector<Pending>& batch, const std::vector<QueuedState>& states) {
  // State records for the open segment ride with the batch; the others
  // (their segment was closed since they were handed over) go to their own.
  std::vector<StateWrite*> riding;
  std::map<Segment*, std::vector<StateWrite*>> elsewhere;
  for (const QueuedState& q : states) {
    if (open_.segment.get() == q.segment) {
      riding.push_back(q.write);
    } else {
      elsewhere[q.segment].push_back(q.write);
    }
  }
  for (const auto& [segment, group] : elsewhere) append_states(*segment, group);
  std::vector<Pending*> storable;
  for (Pending& p : batch) {
    if (p.error) {
      p.done(SubmitResult{p.error, {}});
    } else {
      storable.push_back(&p);
    }
  }
  if (storable.empty()) {
    if (!riding.empty()) append_states(*open_.segment, riding);
    return;
  }
  std::string segment_name;
  if (const std::error_code ec = store(storable, segment_name, riding)) {
    obs::error("spool",
               "segment={} messages={} error=\"{}\" result=\"not stored, clients told "
               "to retry\"",
               segment_name, storable.size(), ec.message());
    for (Pending* p : storable) p->done(SubmitResult{ec, {}});
    return;
  }
  std::vector<std::function<void(const QueuedMessage&)>> subscribers;
  {
    std::lock_guard lock(subscribers_mutex_);
    subscribers = subscribers_;
  }
  for (Pending* p : storable) {
    p->done(SubmitResult{{}, p->message.id});
    for (const auto& s : subscribers) s(p->message);
  }
}

// Appends the batch to the open segment, or starts a new segment with it
// when none is open (or the open one is gone). On success the messages
// are in the index.
std::error_code WalSpool::store(const std::vector<Pending*>& batch, std::string& segment_name,
                                std::vector<StateWrite*>& riding) {
  if (open_.segment) {
    const std::shared_ptr<Segment> segment = open_.segment;  // outlives open_ being reset
    segment_name = segment->name;
    std::lock_guard lock(segment->mutex);
    if (!segment->unlinked) {
      std::string prefix;
      for (const StateWrite* w : riding) prefix += w->record;
      const std::error_code ec = append_batch(*segment, batch, prefix);
      // The batch's messages are counted first: a state record may finish
      // the segment's last older message, and the segment must not be
      // unlinked under the batch just written to it.
      if (!ec) index_batch(segment, batch);
      for (StateWrite* w : riding) {
        w->error = ec;
        if (!ec) finish_locked(*segment, w->id, w->still_queued ? &*w->still_queued : nullptr);
      }
      riding.clear();
      // After a failure the file may hold an unconfirmed tail, and its
      // descriptor a write-back error: the next batch starts afresh.
      if (ec || segment->end >= options_.segment_bytes) close_open_segment_locked();
      return ec;
    }
    segment->writer_appends = false;
    open_ = OpenSegment{};  // every message in it left; the file is gone
    // No queued message is left in it to have a state record; should one
    // be here, it cannot be recorded.
    for (StateWrite* w : riding)
      w->error = std::make_error_code(std::errc::no_such_file_or_directory);
    riding.clear();
  }
  auto segment = std::make_shared<Segment>();
  segment->name = ids_.next() + std::string(kSegmentSuffix);
  segment_name = segment->name;
  OpenSegment opened;
  if (const std::error_code ec = create_segment(*segment, batch, opened)) return ec;
  index_batch(segment, batch);
  opened.segment = segment;
  segment->writer_appends = true;
  open_ = std::move(opened);
  if (segment->end >= options_.segment_bytes) {
    std::lock_guard lock(segment->mutex);
    close_open_segment_locked();
  }
  return {};
}

// Counts the batch's messages as queued in `segment`. Called while the
// segment's mutex is held (or before anyone else knows the segment), so
// that a delivery finishing its last older message cannot unlink the file
// between the batch's commit and this.
void WalSpool::index_batch(const std::shared_ptr<Segment>& segment,
                           const std::vector<Pending*>& batch) {
  std::lock_guard lock(index_mutex_);
  for (Pending* p : batch) {
    index_[p->message.id] = Entry{segment, p->data_offset, p->message};
    ++segment->live;
  }
}

// The records of a batch as buffers for one pwritev, starting at file
// offset `offset`; sets each message's data offset and returns the end.
std::uint64_t WalSpool::batch_buffers(const std::vector<Pending*>& batch, std::uint64_t offset,
                                      const std::string& commit_record, std::vector<iovec>& iov) {
  iov.reserve(iov.size() + batch.size() * 4 + 1);
  for (Pending* p : batch) {
    iov.push_back(iov_of(p->envelope_record));
    offset += p->envelope_record.size();
    p->data_offset = offset;
    iov.push_back(iov_of(p->data_header));
    iov.push_back(iov_of(p->data));
    iov.push_back(iov_of(p->data_crc));
    offset += p->data_header.size() + p->data.size() + p->data_crc.size();
  }
  iov.push_back(iov_of(commit_record));
  return offset + commit_record.size();
}

std::string WalSpool::commit_record_for(const std::vector<Pending*>& batch) {
  return encode_record(RecordType::commit,
                       encode_commit_payload(static_cast<std::uint32_t>(batch.size())));
}

// Appends a batch after the open segment's last valid record and makes it
// durable. The caller holds segment.mutex.
std::error_code WalSpool::append_batch(Segment& segment, const std::vector<Pending*>& batch,
                                       std::string_view prefix) {
  const int fd = open_.file.get();
  const std::string commit_record = commit_record_for(batch);
  std::vector<iovec> iov;
  iov.push_back(iov_of(prefix));
  const std::uint64_t end = batch_buffers(batch, segment.end + prefix.size(), commit_record, iov);
  // Past the zeros written ahead (or over a failed append's bytes): write
  // the next step of zeros with the batch.
  std::uint64_t size = segment.size;
  if (end > size || segment.dirty_tail) {
    size = grown_size(end);
    add_zeros(iov, size - end);
  }
  std::error_code ec = fault("write");
  if (!ec) ec = pwritev_all(fd, iov, segment.end);
  if (!ec && segment.dirty_tail && ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    ec = errno_code();
  }
  if (!ec) ec = fault("fsync");
  if (!ec && !options_.unsafe_no_fsync && ::fdatasync(fd) != 0) ec = errno_code();
  if (!ec) ec = still_in_queue(segment);
  if (ec) {
    // Never acknowledged, so never to be delivered: take the batch back
    // (as far as the disk lets us; recovery ignores a tail without its
    // commit record, and the next append overwrites whatever is left).
    if (::ftruncate(fd, static_cast<off_t>(segment.end)) == 0) {
      segment.size = segment.end;
      if (!options_.unsafe_no_fsync) ::fdatasync(fd);
    }
    segment.dirty_tail = true;
    return ec;
  }
  segment.end = end;
  segment.size = size;
  segment.dirty_tail = false;
  return {};
}

// A new segment file holding the batch: created, written, fdatasynced,
// and its directory entry made durable with an fsync of queue/.
std::error_code WalSpool::create_segment(Segment& segment, const std::vector<Pending*>& batch,
                                         OpenSegment& opened) {
  const std::string& name = segment.name;
  Fd dir(::open(queue_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) {
    std::error_code open_ec = errno_code();
    if (open_ec == std::errc::no_such_file_or_directory) {
      // The folder was removed: it is recreated (empty) so new mail can be
      // stored; what was in it is gone with it.
      open_ec = ensure_layout();
      if (!open_ec) {
        dir = Fd(::open(queue_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (dir.get() < 0) open_ec = errno_code();
      }
    }
    if (open_ec) return open_ec;
  }

  if (const std::error_code ec = fault("open")) return ec;
  Fd file(::openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (file.get() < 0) return errno_code();

  const std::string commit_record = commit_record_for(batch);
  std::vector<iovec> iov;
  iov.push_back(iov_of(kSegmentMagic));
  const std::uint64_t end = batch_buffers(batch, kSegmentMagic.size(), commit_record, iov);
  const std::uint64_t size = grown_size(end);
  add_zeros(iov, size - end);

  std::error_code ec = fault("write");
  if (!ec) ec = pwritev_all(file.get(), iov, 0);
  if (!ec) ec = fault("fsync");
  if (!ec && !options_.unsafe_no_fsync && ::fdatasync(file.get()) != 0) ec = errno_code();
  if (!ec) ec = fault("dir_fsync");
  if (!ec && !options_.unsafe_no_fsync && ::fsync(dir.get()) != 0) ec = errno_code();
  if (!ec) ec = same_directory(dir.get());
  struct stat st {};
  if (!ec && ::fstat(file.get(), &st) != 0) ec = errno_code();
  if (ec) {
    // Never acknowledged, so never delivered: take the file away (and make
    // that stick as far as the disk lets us).
    file.reset();
    ::unlinkat(dir.get(), name.c_str(), 0);
    ::fsync(dir.get());
    return ec;
  }
  segment.end = end;
  segment.size = size;
  opened.file = std::move(file);
  opened.dev = st.st_dev;
  opened.ino = st.st_ino;
  return {};
}

}  // namespace postern::spool::wal
