// The spool as a write-ahead log of batch segments.
//
// Why segments and not one file per message: acknowledging a message needs
// its bytes and its directory entry on stable storage. With one file per
// message a batch of N costs N file creations whose data and metadata each
// need their own write-back, and on the ext4/virtio disks we measured that
// is ~1 ms per message however the fsyncs are grouped (sync_file_range
// first, parallel fdatasync, ...). So the writer thread takes everything
// submitted since the last round (group commit) and appends it as one batch
//   (envelope, data)*, commit
// to the open segment file queue/<segment-id>.seg, fdatasyncs that file and
// only then calls the callbacks: one sequential write and one fdatasync per
// batch, whatever its size.
//
// Why one open segment for many batches: creating a file per batch put a
// new inode, a directory entry and an fsync of queue/ on every batch, and
// the profile of the benchmark showed the kernel's inode creation as the
// largest single cost (bench/README.md). A new segment is started only when
// the open one reaches SpoolOptions::segment_bytes, after a failed batch,
// or when every message in it has left the queue (then it was unlinked).
// Only the first batch of a segment pays for the file creation and the
// fsync of queue/.
//
// A batch counts once its commit record is there; the commit record, not
// the file name, marks it complete, so no rename is needed. A batch whose
// write or fdatasync fails is answered with an error and taken back: the
// file is truncated to where the batch began, and the next batch goes to a
// new segment. Bytes left after the last valid record (a torn batch, if the
// truncation did not stick or the machine crashed mid-write) were never
// acknowledged: recovery ignores them, the next append overwrites them and
// cuts the file there. A file without any committed batch goes to corrupt/.
//
// Per-recipient state is appended to the message's segment as checksummed
// state records (one pwrite + fdatasync per update()); the last valid one
// wins on recovery, so a restart never repeats a delivery that update()
// confirmed. When no message in a segment is pending any more, the segment
// is unlinked; if that unlink is lost in a crash, recovery finds only
// finished messages in it and unlinks it again.
//
// The in-memory index (queue id -> segment, offset, current state) is
// rebuilt from the segments at open(), and is what list()/load() answer
// from. A read-only open (`postern queue` beside a running server) answers
// from the disk instead.
#include "spool/wal_spool.hpp"

namespace postern::spool::wal {

WalSpool::WalSpool(fs::path root, SpoolOptions options)
    : root_(std::move(root)),
      queue_dir_(root_ / "queue"),
      corrupt_dir_(root_ / "corrupt"),
      options_(std::move(options)) {
  if (options_.max_batch == 0) options_.max_batch = 1;
}

void WalSpool::start() {
  if (options_.read_only) {
    std::error_code ec;
    if (!fs::is_directory(queue_dir_, ec)) {
      throw std::system_error(ec ? ec : std::make_error_code(std::errc::not_a_directory),
                              "spool " + queue_dir_.string() + " is not readable");
    }
    return;
  }
  if (const std::error_code ec = ensure_layout()) {
    throw std::system_error(ec, "cannot use spool directory " + root_.string());
  }
  recover();
  writer_ = std::thread([this] { writer_loop(); });
}

void WalSpool::submit(Envelope envelope, std::string data, std::function<void(SubmitResult)> done,
                      std::string id) {
  Pending p;
  p.message.id = id.empty() ? ids_.next() : std::move(id);
  p.message.arrival = Clock::now();
  p.message.next_attempt = p.message.arrival;
  p.message.size = data.size();
  p.message.envelope = std::move(envelope);
  for (const Recipient& r : p.message.envelope.recipients) {
    p.message.recipients.push_back(RecipientStatus{r, RecipientState::pending, 0, {}, {}});
  }
  if (options_.read_only) {
    p.error = std::make_error_code(std::errc::read_only_file_system);
  } else if (data.size() > kMaxRecordPayload) {
    p.error = std::make_error_code(std::errc::file_too_large);
  } else {
    // Encoding and checksumming happen here, on the submitting threads,
    // so the single writer thread only writes.
    p.envelope_record = encode_record(RecordType::envelope, encode_envelope_payload(p.message));
    p.data_header = record_header(RecordType::data, static_cast<std::uint32_t>(data.size()));
    p.data_crc = encode_u32(crc32(data, crc32(p.data_header)));
    p.data = std::move(data);
  }
  p.done = std::move(done);
  bool write_here = false;
  {
    std::lock_guard lock(queue_mutex_);
    if (!stopping_ && writer_.joinable()) {
      // Without fsync there is nothing for a batch to share, so the
      // message is written here, on the submitting thread, rather than
      // handed to the writer thread and back (two thread wake-ups).
      write_here = options_.unsafe_no_fsync;
      if (!write_here) {
        queue_.push_back(std::move(p));
        queue_cv_.notify_one();
        return;
      }
    }
  }
  if (write_here) {
    std::vector<Pending> one;
    one.push_back(std::move(p));
    std::lock_guard lock(commit_mutex_);
    commit(one);
    return;
  }
  // No writer thread (shut down or read-only): nothing can be stored.
  p.done(SubmitResult{p.error ? p.error : std::make_error_code(std::errc::operation_canceled), {}});
}

std::vector<QueuedMessage> WalSpool::list() {
  std::vector<QueuedMessage> out;
  if (options_.read_only) {
    for (auto& [id, e] : scan_disk()) out.push_back(std::move(e.message));
    return out;
  }
  std::lock_guard lock(index_mutex_);
  out.reserve(index_.size());
  for (const auto& [id, e] : index_) out.push_back(e.message);
  return out;
}

std::optional<QueuedMessage> WalSpool::load(const std::string& id) {
  if (options_.read_only) {
    auto all = scan_disk();
    const auto it = all.find(id);
    if (it == all.end()) return std::nullopt;
    return std::move(it->second.message);
  }
  std::lock_guard lock(index_mutex_);
  const auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return it->second.message;
}

bool WalSpool::read_data(const std::string& id, std::string& out) {
  fs::path file;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  if (options_.read_only) {
    auto all = scan_disk();
    const auto it = all.find(id);
    if (it == all.end()) return false;
    file = queue_dir_ / it->second.segment->name;
    offset = it->second.data_offset;
    size = it->second.message.size;
  } else {
    std::lock_guard lock(index_mutex_);
    const auto it = index_.find(id);
    if (it == index_.end()) return false;
    file = queue_dir_ / it->second.segment->name;
    offset = it->second.data_offset;
    size = it->second.message.size;
  }
  std::error_code ec;
  if (read_data_record(file, offset, size, out, ec)) return true;
  if (ec == std::errc::bad_message && !options_.read_only) drop_damaged(id);
  return false;
}

std::error_code WalSpool::update(const QueuedMessage& message) {
  if (options_.read_only) return std::make_error_code(std::errc::read_only_file_system);
  std::shared_ptr<Segment> segment;
  QueuedMessage merged;
  {
    std::lock_guard lock(index_mutex_);
    const auto it = index_.find(message.id);
    if (it == index_.end()) return std::make_error_code(std::errc::no_such_file_or_directory);
    if (it->second.message.recipients.size() != message.recipients.size()) {
      return std::make_error_code(std::errc::invalid_argument);
    }
    segment = it->second.segment;
    // Only the delivery state is taken from the caller; identity, envelope
    // and size stay what was committed.
    merged = it->second.message;
    for (std::size_t i = 0; i < merged.recipients.size(); ++i) {
      merged.recipients[i].state = message.recipients[i].state;
      merged.recipients[i].attempts = message.recipients[i].attempts;
      merged.recipients[i].last_reply = message.recipients[i].last_reply;
      merged.recipients[i].bounce_owed = message.recipients[i].bounce_owed;
    }
    merged.next_attempt = message.next_attempt;
    merged.held = message.held;
  }
  StateWrite w;
  w.record = encode_record(RecordType::state, encode_state_payload(merged));
  w.id = merged.id;
  if (has_pending(merged)) w.still_queued = std::move(merged);
  write_state(*segment, w);
  return w.error;
}

std::error_code WalSpool::remove(const std::string& id) {
  if (options_.read_only) return std::make_error_code(std::errc::read_only_file_system);
  std::shared_ptr<Segment> segment;
  {
    std::lock_guard lock(index_mutex_);
    const auto it = index_.find(id);
    if (it == index_.end()) return std::make_error_code(std::errc::no_such_file_or_directory);
    segment = it->second.segment;
  }
  StateWrite w;
  w.record = encode_record(RecordType::removed, encode_removed_payload(id));
  w.id = id;
  write_state(*segment, w);
  return w.error;
}

void WalSpool::on_committed(std::function<void(const QueuedMessage&)> callback) {
  std::lock_guard lock(subscribers_mutex_);
  subscribers_.push_back(std::move(callback));
}

void WalSpool::shutdown() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
    queue_cv_.notify_all();
  }
  std::lock_guard lock(join_mutex_);
  if (writer_.joinable()) writer_.join();
}

std::error_code WalSpool::fault(std::string_view step) const {
  return options_.fault_injector ? options_.fault_injector(step) : std::error_code{};
}

}  // namespace postern::spool::wal
