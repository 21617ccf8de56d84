// Queue ids: 16 characters of Crockford base32 (digits and upper-case
// letters without I, L, O, U), so they are safe as file names, readable in
// logs, and sort by creation time as plain strings.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace postern::spool {

class QueueIdGenerator {
 public:
  QueueIdGenerator();
  // Strictly increasing within one generator; thread-safe.
  std::string next();
  std::string next(std::chrono::system_clock::time_point now);

 private:
  std::mutex mutex_;
  std::uint64_t last_micros_ = 0;
  std::uint32_t counter_ = 0;
  std::uint32_t salt_ = 0;  // random per process, so two processes differ
};

// True when `id` has the shape next() produces (used to tell our files from
// anything else found in the spool folder).
bool is_queue_id(std::string_view id);

}  // namespace postern::spool
