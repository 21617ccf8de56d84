// QueueRunner's operator changes (`postern queue hold|release|delete|flush`)
// and their interplay with a delivery attempt in progress.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "delivery/queue_runner.hpp"
#include "unit/spool/spool_test_util.hpp"

namespace postern::delivery {
namespace {

namespace fs = std::filesystem;
using namespace postern::spool::testing;
using namespace std::chrono_literals;
using spool::RecipientState;
using spool::Spool;

// A remote courier that answers "transient" and, while `blocked`, keeps the
// attempt waiting, so a test can act in the middle of one.
class GateCourier : public Courier {
 public:
  std::vector<RecipientResult> deliver(const spool::QueuedMessage&, std::string_view,
                                       const std::vector<std::size_t>& recipients) override {
    std::unique_lock lock(mu_);
    ++calls_;
    entered_.notify_all();
    opened_.wait(lock, [this] { return !blocked_; });
    RecipientResult r;
    r.outcome = Outcome::transient;
    r.reply = "451 4.3.0 try later";
    return std::vector<RecipientResult>(recipients.size(), r);
  }
  void block() {
    std::lock_guard lock(mu_);
    blocked_ = true;
  }
  void open() {
    std::lock_guard lock(mu_);
    blocked_ = false;
    opened_.notify_all();
  }
  bool wait_calls(int n) {
    std::unique_lock lock(mu_);
    return entered_.wait_for(lock, 5s, [&] { return calls_ >= n; });
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable entered_;
  std::condition_variable opened_;
  bool blocked_ = false;
  int calls_ = 0;
};

class RunnerOperator : public ::testing::Test {
 protected:
  RunnerSettings settings() const {
    RunnerSettings s;
    s.mail_root = dir_.path() / "mail";
    s.local_domains = {"example.com"};
    s.retry_initial = 3600s;  // nothing is retried by itself during a test
    s.retry_max = 3600s;
    s.remote = courier_;
    return s;
  }
  std::size_t mails_of(const std::string& local) const {
    return files_in(dir_.path() / "mail" / "example.com" / local / "new").size();
  }

  TempDir dir_;
  std::shared_ptr<GateCourier> courier_ = std::make_shared<GateCourier>();
  std::unique_ptr<Spool> spool_ = Spool::open(dir_.path() / "spool", {});
};

TEST_F(RunnerOperator, HoldDuringAnAttemptWaitsForItAndIsNotUndone) {
  QueueRunner runner(*spool_, settings());
  runner.start();
  courier_->block();
  const auto id =
      submit_and_wait(*spool_, envelope("a@x.org", {"r@remote.org"}), message_text("h")).queue_id;
  ASSERT_TRUE(courier_->wait_calls(1));
  auto held = std::async(std::launch::async, [&] { return runner.hold(id); });
  EXPECT_EQ(held.wait_for(200ms), std::future_status::timeout);  // attempt still running
  courier_->open();
  ASSERT_EQ(held.get(), std::error_code());
  const auto m = spool_->load(id);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->held);
  EXPECT_EQ(m->recipients[0].attempts, 1);  // the attempt's result was kept too
  EXPECT_EQ(m->recipients[0].last_reply, "451 4.3.0 try later");
  // Held: flush skips it, wake does not deliver it.
  EXPECT_EQ(runner.wake_all(), 0u);
  runner.wake(id);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(courier_->calls(), 1);
  runner.stop();
}

TEST_F(RunnerOperator, ReleaseMakesItDueAtOnce) {
  QueueRunner runner(*spool_, settings());
  runner.start();
  courier_->block();
  const auto id =
      submit_and_wait(*spool_, envelope("a@x.org", {"r@remote.org"}), message_text("r")).queue_id;
  ASSERT_TRUE(courier_->wait_calls(1));
  auto held = std::async(std::launch::async, [&] { return runner.hold(id); });
  courier_->open();
  ASSERT_FALSE(held.get());
  ASSERT_FALSE(runner.release(id));
  EXPECT_TRUE(courier_->wait_calls(2));
  EXPECT_TRUE(eventually([&] { return spool_->load(id)->recipients[0].attempts == 2; }));
  EXPECT_FALSE(spool_->load(id)->held);
  runner.stop();
}

TEST_F(RunnerOperator, HeldAcrossARestart) {
  std::string id;
  {
    QueueRunner runner(*spool_, settings());
    id = submit_and_wait(*spool_, envelope("a@x.org", {"bob@example.com"}), message_text("x"))
             .queue_id;
    // Not started: nothing delivers, the hold goes straight through.
    ASSERT_FALSE(runner.hold(id));
  }
  spool_.reset();
  spool_ = Spool::open(dir_.path() / "spool", {});
  QueueRunner runner(*spool_, settings());
  runner.start();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(mails_of("bob"), 0u);
  ASSERT_FALSE(runner.release(id));
  EXPECT_TRUE(eventually([&] { return mails_of("bob") == 1; }));
  runner.stop();
}

TEST_F(RunnerOperator, DeleteDuringAnAttemptLeavesNothingToDeliver) {
  QueueRunner runner(*spool_, settings());
  runner.start();
  courier_->block();
  const auto id =
      submit_and_wait(*spool_, envelope("a@x.org", {"r@remote.org"}), message_text("d")).queue_id;
  ASSERT_TRUE(courier_->wait_calls(1));
  auto removed = std::async(std::launch::async, [&] { return runner.remove(id); });
  courier_->open();
  ASSERT_FALSE(removed.get());
  EXPECT_FALSE(spool_->load(id));
  EXPECT_EQ(runner.wake_all(), 0u);
  runner.wake(id);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(courier_->calls(), 1);
  runner.stop();
}

TEST_F(RunnerOperator, UnknownIdAndAfterStop) {
  QueueRunner runner(*spool_, settings());
  runner.start();
  EXPECT_EQ(runner.hold("0000000000000000"), std::errc::no_such_file_or_directory);
  EXPECT_EQ(runner.remove("NOPE"), std::errc::no_such_file_or_directory);
  runner.stop();
  EXPECT_EQ(runner.release("NOPE"), std::errc::operation_canceled);
}

TEST_F(RunnerOperator, WakeAllMakesWaitingMessagesDue) {
  QueueRunner runner(*spool_, settings());
  runner.start();
  const auto id =
      submit_and_wait(*spool_, envelope("a@x.org", {"r@remote.org"}), message_text("f")).queue_id;
  ASSERT_TRUE(courier_->wait_calls(1));
  // Now it waits an hour for its retry; flush brings it forward.
  ASSERT_TRUE(eventually([&] { return spool_->load(id)->recipients[0].attempts == 1; }));
  EXPECT_EQ(runner.wake_all(), 1u);
  EXPECT_TRUE(courier_->wait_calls(2));
  runner.stop();
}

}  // namespace
}  // namespace postern::delivery
