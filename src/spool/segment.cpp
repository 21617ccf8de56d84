#include "spool/segment.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "spool/crc32.hpp"
#include "spool/record.hpp"

namespace postern::spool {
namespace {

// A read-only file handle with positioned reads; closes itself.
class File {
 public:
  explicit File(const std::filesystem::path& path)
      : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  bool ok() const { return fd_ >= 0; }

  std::uint64_t size() const {
    struct stat st {};
    return ::fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  }

  // Reads exactly n bytes at offset into out; false on a short read or error.
  bool read(std::uint64_t offset, std::size_t n, std::string& out) const {
    out.resize(n);
    std::size_t done = 0;
    while (done < n) {
      const ssize_t r =
          ::pread(fd_, out.data() + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      done += static_cast<std::size_t>(r);
    }
    return true;
  }

  // Continues `crc` over n bytes at offset, reading in bounded chunks so a
  // large body never has to fit in memory just to be checked.
  bool crc(std::uint64_t offset, std::uint64_t n, std::uint32_t& crc) const {
    constexpr std::size_t kChunk = 1 << 20;
    std::string buf;
    while (n > 0) {
      const std::size_t len = n < kChunk ? static_cast<std::size_t>(n) : kChunk;
      if (!read(offset, len, buf)) return false;
      crc = crc32(buf, crc);
      offset += len;
      n -= len;
    }
    return true;
  }

 private:
  int fd_;
};

struct RecordHead {
  RecordType type{};
  std::uint32_t length = 0;
};

bool read_head(const File& f, std::uint64_t offset, std::uint64_t file_size, RecordHead& head) {
  if (file_size - offset < kRecordHeaderSize + kRecordTrailerSize) return false;
  std::string h;
  if (!f.read(offset, kRecordHeaderSize, h)) return false;
  const auto type = static_cast<std::uint8_t>(h[0]);
  if (!is_known_record_type(type)) return false;
  head.type = static_cast<RecordType>(type);
  head.length = decode_u32(std::string_view(h).substr(1));
  return head.length <= file_size - offset - kRecordHeaderSize - kRecordTrailerSize;
}

// Reads a small record whole and checks its checksum.
bool read_small(const File& f, std::uint64_t offset, const RecordHead& head, std::string& payload) {
  std::string trailer;
  if (!f.read(offset + kRecordHeaderSize, head.length, payload) ||
      !f.read(offset + kRecordHeaderSize + head.length, kRecordTrailerSize, trailer)) {
    return false;
  }
  return decode_u32(trailer) == record_crc(head.type, payload);
}

std::uint64_t record_end(std::uint64_t offset, const RecordHead& head) {
  return offset + kRecordHeaderSize + head.length + kRecordTrailerSize;
}

}  // namespace

SegmentScan scan_segment(const std::filesystem::path& file, bool verify_data) {
  SegmentScan scan;
  File f(file);
  if (!f.ok()) {
    scan.problem = "cannot open: " + std::error_code(errno, std::system_category()).message();
    return scan;
  }
  const std::uint64_t size = f.size();
  std::string magic;
  if (size < kSegmentMagic.size() || !f.read(0, kSegmentMagic.size(), magic) ||
      magic != kSegmentMagic) {
    scan.problem = "no segment header (torn or foreign file)";
    return scan;
  }
  std::uint64_t pos = kSegmentMagic.size();
  scan.valid_end = pos;
  std::string payload;
  RecordHead head;
  // The messages of the batch being read, not yet confirmed by its commit.
  std::vector<SegmentMessage> batch;
  // Where each committed message is in scan.messages, for state records.
  std::map<std::string, std::size_t> by_id;

  const auto stop = [&](std::string why) {
    scan.problem = std::move(why);
    return scan;
  };
  for (;;) {
    if (!read_head(f, pos, size, head)) break;  // the end, or a torn record
    if (head.type == RecordType::envelope) {
      SegmentMessage m;
      if (!read_small(f, pos, head, payload) || !decode_envelope_payload(payload, m.message)) {
        return stop("damaged envelope record");
      }
      pos = record_end(pos, head);
      if (!read_head(f, pos, size, head) || head.type != RecordType::data ||
          head.length != m.message.size) {
        return stop("missing or damaged data record");
      }
      m.data_offset = pos;
      if (verify_data) {
        std::uint32_t crc = crc32(record_header(RecordType::data, head.length));
        std::string trailer;
        m.data_ok = f.crc(pos + kRecordHeaderSize, head.length, crc) &&
                    f.read(pos + kRecordHeaderSize + head.length, kRecordTrailerSize, trailer) &&
                    decode_u32(trailer) == crc;
      }
      pos = record_end(pos, head);
      batch.push_back(std::move(m));
      continue;
    }
    if (head.type == RecordType::commit) {
      std::uint32_t count = 0;
      if (!read_small(f, pos, head, payload) || !decode_commit_payload(payload, count) ||
          count == 0 || count != batch.size()) {
        return stop("damaged commit record");
      }
      for (SegmentMessage& m : batch) {
        by_id[m.message.id] = scan.messages.size();
        scan.messages.push_back(std::move(m));
      }
      batch.clear();
      scan.committed = true;
      pos = record_end(pos, head);
      scan.valid_end = pos;
      continue;
    }
    // State and removal records only follow whole batches: anything else
    // here is not a record this spool wrote.
    if ((head.type != RecordType::state && head.type != RecordType::removed) || !batch.empty() ||
        !read_small(f, pos, head, payload)) {
      break;
    }
    // The last valid state record per message wins.
    const auto it = by_id.find(record_queue_id(payload));
    if (it != by_id.end()) {
      SegmentMessage& m = scan.messages[it->second];
      if (head.type == RecordType::removed) {
        m.removed = true;
      } else {
        apply_state_payload(payload, m.message);
      }
    }
    pos = record_end(pos, head);
    scan.valid_end = pos;
  }
  if (!batch.empty() || !scan.committed) {
    return stop("batch ends without a commit record (torn write, never acknowledged)");
  }
  return scan;
}

bool only_zeros_after(const std::filesystem::path& file, std::uint64_t offset) {
  File f(file);
  if (!f.ok()) return false;
  const std::uint64_t size = f.size();
  constexpr std::size_t kChunk = 1 << 16;
  std::string buf;
  while (offset < size) {
    const std::size_t len =
        size - offset < kChunk ? static_cast<std::size_t>(size - offset) : kChunk;
    if (!f.read(offset, len, buf)) return false;
    if (buf.find_first_not_of('\0') != std::string::npos) return false;
    offset += len;
  }
  return true;
}

bool read_data_record(const std::filesystem::path& file, std::uint64_t offset, std::uint64_t size,
                      std::string& out, std::error_code& ec) {
  File f(file);
  if (!f.ok()) {
    ec = {errno, std::system_category()};
    return false;
  }
  RecordHead head;
  std::string trailer;
  if (!read_head(f, offset, f.size(), head) || head.type != RecordType::data ||
      head.length != size || !f.read(offset + kRecordHeaderSize, head.length, out) ||
      !f.read(offset + kRecordHeaderSize + head.length, kRecordTrailerSize, trailer) ||
      decode_u32(trailer) != record_crc(RecordType::data, out)) {
    out.clear();
    ec = std::make_error_code(std::errc::bad_message);
    return false;
  }
  ec.clear();
  return true;
}

}  // namespace postern::spool
