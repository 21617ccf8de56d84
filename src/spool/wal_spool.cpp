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
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "obs/log.hpp"
#include "spool/crc32.hpp"
#include "spool/queue_id.hpp"
#include "spool/record.hpp"
#include "spool/segment.hpp"
#include "spool/spool.hpp"

namespace postern::spool {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

// A batch is also bounded in bytes so that one segment stays a reasonable
// unit to keep on disk until all of its messages are delivered.
constexpr std::size_t kMaxBatchBytes = 64 << 20;

// The open segment is grown in steps of zeros written ahead of the batches.
// A batch that lands on bytes the file already has changes no file size,
// so its fdatasync writes the data alone: without a journal (or with one)
// the inode write for the new size is saved, and the sync takes about 40 %
// less time (0.10 ms against 0.17 ms for 40 KiB on the benchmark machine).
// Only the batch that crosses the end pays for the next step. PostgreSQL
// zero-fills its WAL segments for the same reason. Recovery reads zeros as
// the end of the log.
constexpr std::uint64_t kZeroAhead = 1 << 20;
constexpr std::size_t kZeroChunk = 64 << 10;
const char kZeros[kZeroChunk] = {};

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

std::error_code errno_code() {
  return {errno, std::system_category()};
}

bool has_pending(const QueuedMessage& m) {
  return std::any_of(m.recipients.begin(), m.recipients.end(),
                     [](const RecipientStatus& r) { return r.state == RecipientState::pending; });
}

// Closes a descriptor on scope exit.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.fd_;
      other.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }
  // Closes now, reporting the error (close can report a deferred write error).
  std::error_code close() {
    std::error_code ec;
    if (fd_ >= 0 && ::close(fd_) != 0) ec = errno_code();
    fd_ = -1;
    return ec;
  }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

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

struct Segment {
  std::string name;         // file name under queue/
  std::mutex mutex;         // serialises appends to the file
  std::uint64_t end = 0;    // where the next record goes; guarded by mutex
  bool dirty_tail = false;  // bytes of a failed append follow `end`; guarded by mutex
  std::uint64_t size = 0;   // of the file: `end`, then zeros written ahead; guarded by mutex
  bool unlinked = false;    // its last message left and the file is gone; guarded by mutex
  std::size_t live = 0;     // messages still queued; guarded by the index mutex
};

// The segment the writer thread appends batches to, and its open file.
struct OpenSegment {
  std::shared_ptr<Segment> segment;
  Fd file;
  dev_t dev = 0;  // identity of the file, to notice it was moved or removed
  ino_t ino = 0;
};

struct Entry {
  std::shared_ptr<Segment> segment;
  std::uint64_t data_offset = 0;
  QueuedMessage message;
};

struct Pending {
  QueuedMessage message;
  std::string envelope_record;
  std::string data_header;
  std::string data;
  std::string data_crc;
  std::uint64_t data_offset = 0;
  std::error_code error;  // set when the message cannot be stored at all
  std::function<void(SubmitResult)> done;
};

class WalSpool final : public Spool {
 public:
  WalSpool(fs::path root, SpoolOptions options)
      : root_(std::move(root)),
        queue_dir_(root_ / "queue"),
        corrupt_dir_(root_ / "corrupt"),
        options_(std::move(options)) {
    if (options_.max_batch == 0) options_.max_batch = 1;
  }

  ~WalSpool() override { shutdown(); }

  WalSpool(const WalSpool&) = delete;
  WalSpool& operator=(const WalSpool&) = delete;

  void start() {
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

  std::string allocate_id() override { return ids_.next(); }

  void submit(Envelope envelope, std::string data, std::function<void(SubmitResult)> done,
              std::string id) override {
    Pending p;
    p.message.id = id.empty() ? ids_.next() : std::move(id);
    p.message.arrival = Clock::now();
    p.message.next_attempt = p.message.arrival;
    p.message.size = data.size();
    p.message.envelope = std::move(envelope);
    for (const Recipient& r : p.message.envelope.recipients) {
      p.message.recipients.push_back(RecipientStatus{r, RecipientState::pending, 0, {}});
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
    p.done(
        SubmitResult{p.error ? p.error : std::make_error_code(std::errc::operation_canceled), {}});
  }

  std::vector<QueuedMessage> list() override {
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

  std::optional<QueuedMessage> load(const std::string& id) override {
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

  bool read_data(const std::string& id, std::string& out) override {
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

  std::error_code update(const QueuedMessage& message) override {
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
      }
      merged.next_attempt = message.next_attempt;
      merged.held = message.held;
    }
    const bool finished = !has_pending(merged);
    std::lock_guard seg_lock(segment->mutex);
    const std::string record = encode_record(RecordType::state, encode_state_payload(merged));
    if (const std::error_code ec = append(*segment, record)) return ec;
    finish_locked(*segment, merged.id, finished ? nullptr : &merged);
    return {};
  }

  std::error_code remove(const std::string& id) override {
    if (options_.read_only) return std::make_error_code(std::errc::read_only_file_system);
    std::shared_ptr<Segment> segment;
    {
      std::lock_guard lock(index_mutex_);
      const auto it = index_.find(id);
      if (it == index_.end()) return std::make_error_code(std::errc::no_such_file_or_directory);
      segment = it->second.segment;
    }
    std::lock_guard seg_lock(segment->mutex);
    const std::string record = encode_record(RecordType::removed, encode_removed_payload(id));
    if (const std::error_code ec = append(*segment, record)) return ec;
    finish_locked(*segment, id, nullptr);
    return {};
  }

  void on_committed(std::function<void(const QueuedMessage&)> callback) override {
    std::lock_guard lock(subscribers_mutex_);
    subscribers_.push_back(std::move(callback));
  }

  void shutdown() override {
    {
      std::lock_guard lock(queue_mutex_);
      stopping_ = true;
      queue_cv_.notify_all();
    }
    std::lock_guard lock(join_mutex_);
    if (writer_.joinable()) writer_.join();
  }

 private:
  std::error_code fault(std::string_view step) const {
    return options_.fault_injector ? options_.fault_injector(step) : std::error_code{};
  }

  // Creates a directory with mode 0700 and makes its entry durable.
  static std::error_code make_dir(const fs::path& dir) {
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

  std::error_code ensure_layout() const {
    std::error_code ec;
    if (!root_.parent_path().empty()) fs::create_directories(root_.parent_path(), ec);
    if (ec) return ec;
    for (const fs::path& d : {root_, queue_dir_, corrupt_dir_}) {
      if ((ec = make_dir(d))) return ec;
    }
    return {};
  }

  void quarantine(const fs::path& file, const std::string& reason) {
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
  void recover() {
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
  void keep_evidence(const std::string& name) {
    const fs::path from = queue_dir_ / name;
    const fs::path to = corrupt_dir_ / name;
    if (::link(from.c_str(), to.c_str()) != 0 && errno != EEXIST) {
      obs::error("spool", "segment={} error=\"cannot link into corrupt/: {}\"", name,
                 errno_code().message());
    }
  }

  void drop_damaged(const std::string& id) {
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
  void finish_locked(Segment& segment, const std::string& id, const QueuedMessage* still_queued) {
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
  std::error_code append(Segment& segment, std::string_view record) {
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

  // Reads every segment from disk (read-only mode). Keyed by queue id.
  std::map<std::string, Entry> scan_disk() const {
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

  void writer_loop() {
    std::vector<Pending> batch;
    std::unique_lock lock(queue_mutex_);
    for (;;) {
      queue_cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) {
        // Stopping, and everything submitted is done.
        std::lock_guard commit_lock(commit_mutex_);
        if (const std::shared_ptr<Segment> segment = open_.segment) {
          std::lock_guard segment_lock(segment->mutex);
          close_open_segment_locked();
        }
        return;
      }
      std::size_t bytes = 0;
      while (!queue_.empty() && batch.size() < options_.max_batch &&
             (batch.empty() || bytes + queue_.front().data.size() <= kMaxBatchBytes)) {
        bytes += queue_.front().data.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      lock.unlock();
      {
        std::lock_guard commit_lock(commit_mutex_);
        commit(batch);
      }
      batch.clear();
      lock.lock();
    }
  }

  // One group commit: the batch appended to a segment and made durable,
  // then every callback. No callback reports success unless every step
  // succeeded.
  void commit(std::vector<Pending>& batch) {
    std::vector<Pending*> storable;
    for (Pending& p : batch) {
      if (p.error) {
        p.done(SubmitResult{p.error, {}});
      } else {
        storable.push_back(&p);
      }
    }
    if (storable.empty()) return;
    std::string segment_name;
    if (const std::error_code ec = store(storable, segment_name)) {
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
  std::error_code store(const std::vector<Pending*>& batch, std::string& segment_name) {
    if (open_.segment) {
      const std::shared_ptr<Segment> segment = open_.segment;  // outlives open_ being reset
      segment_name = segment->name;
      std::lock_guard lock(segment->mutex);
      if (!segment->unlinked) {
        const std::error_code ec = append_batch(*segment, batch);
        if (!ec) index_batch(segment, batch);
        // After a failure the file may hold an unconfirmed tail, and its
        // descriptor a write-back error: the next batch starts afresh.
        if (ec || segment->end >= options_.segment_bytes) close_open_segment_locked();
        return ec;
      }
      open_ = OpenSegment{};  // every message in it left; the file is gone
    }
    auto segment = std::make_shared<Segment>();
    segment->name = ids_.next() + std::string(kSegmentSuffix);
    segment_name = segment->name;
    OpenSegment opened;
    if (const std::error_code ec = create_segment(*segment, batch, opened)) return ec;
    index_batch(segment, batch);
    opened.segment = segment;
    open_ = std::move(opened);
    if (segment->end >= options_.segment_bytes) {
      std::lock_guard lock(segment->mutex);
      close_open_segment_locked();
    }
    return {};
  }

  // Stops appending batches to the open segment and gives back the zeros
  // written ahead (if that truncation is lost in a crash, recovery reads
  // the zeros as the end of the log). Called with commit_mutex_ and the
  // segment's mutex held.
  void close_open_segment_locked() {
    Segment& segment = *open_.segment;
    if (!segment.unlinked && !segment.dirty_tail && segment.size > segment.end &&
        ::ftruncate(open_.file.get(), static_cast<off_t>(segment.end)) == 0) {
      segment.size = segment.end;
    }
    open_ = OpenSegment{};
  }

  // Counts the batch's messages as queued in `segment`. Called while the
  // segment's mutex is held (or before anyone else knows the segment), so
  // that a delivery finishing its last older message cannot unlink the file
  // between the batch's commit and this.
  void index_batch(const std::shared_ptr<Segment>& segment, const std::vector<Pending*>& batch) {
    std::lock_guard lock(index_mutex_);
    for (Pending* p : batch) {
      index_[p->message.id] = Entry{segment, p->data_offset, p->message};
      ++segment->live;
    }
  }

  // The records of a batch as buffers for one pwritev, starting at file
  // offset `offset`; sets each message's data offset and returns the end.
  static std::uint64_t batch_buffers(const std::vector<Pending*>& batch, std::uint64_t offset,
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

  static std::string commit_record_for(const std::vector<Pending*>& batch) {
    return encode_record(RecordType::commit,
                         encode_commit_payload(static_cast<std::uint32_t>(batch.size())));
  }

  // Appends a batch after the open segment's last valid record and makes it
  // durable. The caller holds segment.mutex.
  std::error_code append_batch(Segment& segment, const std::vector<Pending*>& batch) {
    const int fd = open_.file.get();
    const std::string commit_record = commit_record_for(batch);
    std::vector<iovec> iov;
    const std::uint64_t end = batch_buffers(batch, segment.end, commit_record, iov);
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

  // The open segment is still the file at its place in queue/: if it or the
  // folder was moved, replaced or removed meanwhile, what was just written
  // is not where the next start will look for it.
  std::error_code still_in_queue(const Segment& segment) const {
    struct stat now {};
    if (::stat((queue_dir_ / segment.name).c_str(), &now) != 0) return errno_code();
    if (now.st_dev != open_.dev || now.st_ino != open_.ino) {
      return std::make_error_code(std::errc::no_such_file_or_directory);
    }
    return {};
  }

  // A new segment file holding the batch: created, written, fdatasynced,
  // and its directory entry made durable with an fsync of queue/.
  std::error_code create_segment(Segment& segment, const std::vector<Pending*>& batch,
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

  // The segment went into the folder that is still at queue_dir_: if the
  // folder was moved or replaced meanwhile, the new file is not where the
  // next start will look for it.
  std::error_code same_directory(int dir_fd) const {
    struct stat opened {};
    struct stat now {};
    if (::fstat(dir_fd, &opened) != 0) return errno_code();
    if (::stat(queue_dir_.c_str(), &now) != 0) return errno_code();
    if (opened.st_dev != now.st_dev || opened.st_ino != now.st_ino) {
      return std::make_error_code(std::errc::no_such_file_or_directory);
    }
    return {};
  }

  const fs::path root_;
  const fs::path queue_dir_;
  const fs::path corrupt_dir_;
  SpoolOptions options_;
  QueueIdGenerator ids_;

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::mutex join_mutex_;
  std::thread writer_;
  // Held by whoever commits: the writer thread, or with fsync off the
  // submitting thread. Guards open_. Never taken while holding queue_mutex_
  // except by the writer thread as it stops.
  std::mutex commit_mutex_;
  OpenSegment open_;

  std::mutex index_mutex_;
  std::map<std::string, Entry> index_;

  std::mutex subscribers_mutex_;
  std::vector<std::function<void(const QueuedMessage&)>> subscribers_;
};

}  // namespace

std::unique_ptr<Spool> Spool::open(const std::filesystem::path& spool_dir, SpoolOptions options) {
  auto spool = std::make_unique<WalSpool>(spool_dir, std::move(options));
  spool->start();
  return spool;
}

}  // namespace postern::spool
