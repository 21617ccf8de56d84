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

// stop() cancels deliveries that are held back instead of waiting for them.
inline void expect_prompt_stop(QueueRunner& runner) {
  const auto t0 = std::chrono::steady_clock::now();
  runner.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

// Deliveries that stop() cut short are recorded as interrupted: no attempt
// counted, still pending, so due at once after a restart.
inline void expect_not_counted(spool::Spool& spool, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    const auto m = spool.load(id);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->recipients[0].attempts, 0) << id;
    EXPECT_EQ(m->recipients[0].state, spool::RecipientState::pending);
  }
}

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
