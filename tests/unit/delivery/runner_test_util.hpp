// Shared by the queue-runner tests: a fixture with a scratch spool and mail
// folder and runner settings that deliver into them with short retries, and
// the tally the couriers that hold deliveries back keep (how many wait now,
// the most at once, what went through).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "delivery/queue_runner.hpp"
#include "unit/spool/spool_test_util.hpp"

namespace postern::delivery::testing {

class RunnerTest : public ::testing::Test {
 protected:
  std::filesystem::path spool_dir() const { return dir_.path() / "spool"; }
  std::filesystem::path mail() const { return dir_.path() / "mail"; }

  // Local delivery into mail() for `local_domains`; the first retry after
  // one second, backing off up to `retry_max`.
  RunnerSettings runner_settings(std::vector<std::string> local_domains,
                                 std::chrono::seconds retry_max) const {
    RunnerSettings s;
    s.mail_root = mail();
    s.local_domains = std::move(local_domains);
    s.retry_initial = std::chrono::seconds(1);
    s.retry_max = retry_max;
    return s;
  }

  std::size_t mails_in(const std::string& domain, const std::string& local) const {
    return spool::testing::files_in(mail() / domain / local / "new").size();
  }

  spool::testing::TempDir dir_;
};

class StuckTally {
 public:
  int stuck_now() {
    std::lock_guard lock(mutex_);
    return stuck_now_;
  }
  int max_stuck() {
    std::lock_guard lock(mutex_);
    return max_stuck_;
  }
  std::vector<std::string> delivered() {
    std::lock_guard lock(mutex_);
    return delivered_;
  }

 protected:
  // With mutex_ held: one more delivery is held back.
  void count_stuck_locked() {
    ++stuck_now_;
    max_stuck_ = std::max(max_stuck_, stuck_now_);
  }

  std::mutex mutex_;
  bool cancelled_ = false;
  int stuck_now_ = 0;
  int max_stuck_ = 0;
  std::vector<std::string> delivered_;
};

}  // namespace postern::delivery::testing
