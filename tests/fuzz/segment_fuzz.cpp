// The spool segment scanner (spool/segment.hpp): what recovery reads back
// from a queue file after a crash, a torn write or a damaged disk. The
// input is the file; it lives in a memfd so that no disk is touched.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "spool/segment.hpp"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const int fd = ::memfd_create("postern-fuzz-segment", MFD_CLOEXEC);
  if (fd < 0) __builtin_abort();
  if (::ftruncate(fd, 0) != 0) __builtin_abort();
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) __builtin_abort();
    done += static_cast<std::size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  const spool::SegmentScan scan = spool::scan_segment(path, /*verify_data=*/true);
  FUZZ_CHECK(scan.valid_end <= size);
  FUZZ_CHECK(scan.committed || scan.messages.empty());
  for (const spool::SegmentMessage& m : scan.messages) {
    FUZZ_CHECK(m.data_offset < size);
    std::string body;
    std::error_code ec;
    const bool ok = spool::read_data_record(path, m.data_offset, m.message.size, body, ec);
    if (ok) FUZZ_CHECK(body.size() == m.message.size);
    if (m.data_ok) FUZZ_CHECK(ok);
  }
  spool::only_zeros_after(path, scan.valid_end);
  return 0;
}
