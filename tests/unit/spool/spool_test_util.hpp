// Helpers shared by the spool and delivery tests: a scratch folder that is
// kept when a test fails (so its files can be inspected), envelopes, and a
// blocking submit.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "spool/segment.hpp"
#include "spool/spool.hpp"

namespace postern::spool::testing {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> n{0};
    path_ = std::filesystem::temp_directory_path() /
            ("postern-spool-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    if (::testing::Test::HasFailure()) {
      std::fprintf(stderr, "keeping test directory %s\n", path_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline Envelope envelope(const std::string& from, const std::vector<std::string>& rcpts) {
  Envelope e;
  e.mail_from = from;
  for (const auto& r : rcpts) e.recipients.push_back(Recipient{r, {}, {}});
  e.client_ip = "127.0.0.1";
  e.helo = "client.test";
  return e;
}

inline std::string message_text(const std::string& subject) {
  return "From: a@example.org\r\nTo: b@example.com\r\nSubject: " + subject +
         "\r\n\r\nHello,\r\nthis is " + subject + ".\r\n";
}

inline SubmitResult submit_and_wait(Spool& spool, Envelope e, std::string data) {
  std::promise<SubmitResult> p;
  auto f = p.get_future();
  spool.submit(std::move(e), std::move(data), [&p](SubmitResult r) { p.set_value(std::move(r)); });
  return f.get();
}

// Where a segment's valid records end (its file may be longer: the open
// segment has zeros written ahead).
inline std::uint64_t records_end(const std::filesystem::path& segment) {
  return scan_segment(segment, /*verify_data=*/false).valid_end;
}

inline std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) out.push_back(e.path());
  return out;
}

// Polls `done` until it holds or `limit` passes.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

}  // namespace postern::spool::testing
