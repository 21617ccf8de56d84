// Reading spool segment files (format in record.hpp). Used by recovery at
// start-up, by read-only opens (`postern queue`) and to fetch message data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "spool/spool.hpp"

namespace postern::spool {

inline constexpr std::string_view kSegmentSuffix = ".seg";

struct SegmentMessage {
  QueuedMessage message;          // with the latest valid state record applied
  std::uint64_t data_offset = 0;  // file offset of the data record's header
  bool removed = false;           // a removal record follows
  bool data_ok = true;            // false when the body failed its checksum
};

struct SegmentScan {
  // At least one batch ends with its commit record: those messages were
  // acknowledged. A file without any is a torn first write that no client
  // was ever told about.
  bool committed = false;
  std::string problem;                   // what was wrong (or cut off), for the log
  std::vector<SegmentMessage> messages;  // of committed batches only
  // End of the last valid record that counts (a commit, state or removal
  // record): where the next record is written. Anything after it is a torn
  // batch or append that was never confirmed, and gets overwritten.
  std::uint64_t valid_end = 0;
};

// Parses a segment. With `verify_data` every message body is read and its
// checksum checked (recovery); without, bodies are skipped by length.
SegmentScan scan_segment(const std::filesystem::path& file, bool verify_data);

// True when the file holds nothing but zero octets from `offset` to its
// end (the room an open segment is given ahead of its batches).
bool only_zeros_after(const std::filesystem::path& file, std::uint64_t offset);

// Reads the body stored in the data record at `offset`, checking type,
// length and checksum. Damage gives std::errc::bad_message.
bool read_data_record(const std::filesystem::path& file, std::uint64_t offset, std::uint64_t size,
                      std::string& out, std::error_code& ec);

}  // namespace postern::spool
