#include "delivery/queue_runner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "unit/delivery/runner_test_util.hpp"
#include "unit/spool/spool_test_util.hpp"

namespace postern::delivery {
namespace {

namespace fs = std::filesystem;
using namespace postern::spool::testing;
using spool::RecipientState;
using spool::Spool;

constexpr std::string_view kNoRemote = "remote delivery is not available yet";

std::string slurp_first(const fs::path& dir) {
  const auto files = files_in(dir);
  if (files.empty()) return {};
  std::ifstream in(files[0], std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class Runner : public testing::RunnerTest {
 protected:
  RunnerSettings settings() const {
    return runner_settings({"example.com", "Example.NET"}, std::chrono::seconds(4));
  }
};

TEST(RetryDelay, DoublesFromTheFirstDelayUpToTheCap) {
  using std::chrono::seconds;
  EXPECT_EQ(retry_delay(1, seconds(60), seconds(3600)), seconds(60));
  EXPECT_EQ(retry_delay(2, seconds(60), seconds(3600)), seconds(120));
  EXPECT_EQ(retry_delay(3, seconds(60), seconds(3600)), seconds(240));
  EXPECT_EQ(retry_delay(6, seconds(60), seconds(3600)), seconds(1920));
  EXPECT_EQ(retry_delay(7, seconds(60), seconds(3600)), seconds(3600));
  EXPECT_EQ(retry_delay(1000, seconds(60), seconds(3600)), seconds(3600));
}

TEST_F(Runner, DeliversLocallyLeavesRemotePendingAndNeverDeliversTwice) {
  std::string id;
  {
    auto spool = Spool::open(spool_dir(), {});
    QueueRunner runner(*spool, settings());
    runner.start();
    id = submit_and_wait(*spool,
                         envelope("sender@example.org",
                                  {"alice@example.com", "Bob@EXAMPLE.NET", "carol@remote.org"}),
                         message_text("hello"))
             .queue_id;
    ASSERT_TRUE(eventually([&] {
      const auto m = spool->load(id);
      return m && m->recipients[0].state == RecipientState::delivered &&
             m->recipients[1].state == RecipientState::delivered &&
             m->recipients[2].last_reply == kNoRemote;
    }));
    const auto m = *spool->load(id);
    EXPECT_EQ(m.recipients[0].attempts, 1);
    EXPECT_EQ(m.recipients[2].state, RecipientState::pending);
    EXPECT_EQ(m.recipients[2].attempts, 0);
    EXPECT_EQ(mails_in("example.com", "alice"), 1U);
    EXPECT_EQ(mails_in("example.net", "Bob"), 1U);
    // No busy loop on the remote recipient: its segment stops growing.
    const fs::path segment = files_in(spool_dir() / "queue").at(0);
    const auto size = records_end(segment);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    EXPECT_EQ(records_end(segment), size);
    runner.stop();
  }
  // After a restart the local recipients are not delivered again.
  auto spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, settings());
  runner.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  runner.stop();
  EXPECT_EQ(mails_in("example.com", "alice"), 1U);
  EXPECT_EQ(mails_in("example.net", "Bob"), 1U);
  const auto m = spool->load(id);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->recipients[2].state, RecipientState::pending);
  const std::string stored = slurp_first(mail() / "example.com" / "alice" / "new");
  EXPECT_EQ(stored.find("Delivered-To: alice@example.com\n"), stored.find('\n') + 1);
}

TEST_F(Runner, ResumesWhatWasQueuedBeforeItStarted) {
  auto spool = Spool::open(spool_dir(), {});
  const auto id = submit_and_wait(*spool, envelope("", {"alice@example.com"}), "x\r\n").queue_id;
  spool.reset();
  spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, settings());
  runner.start();
  ASSERT_TRUE(eventually([&] { return !spool->load(id); }));
  EXPECT_EQ(mails_in("example.com", "alice"), 1U);
  EXPECT_TRUE(files_in(spool_dir() / "queue").empty());
}

TEST_F(Runner, TransientFailureIsRetriedAfterTheBackoff) {
  fs::create_directories(mail() / "example.com");
  std::ofstream(mail() / "example.com" / "dave") << "a file where the mailbox should be";
  auto spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, settings());
  runner.start();
  const auto t0 = std::chrono::system_clock::now();
  const auto id = submit_and_wait(*spool, envelope("", {"dave@example.com"}), "x\r\n").queue_id;
  ASSERT_TRUE(eventually([&] {
    const auto m = spool->load(id);
    return m && m->recipients[0].attempts == 1;
  }));
  const auto m = *spool->load(id);
  EXPECT_EQ(m.recipients[0].state, RecipientState::pending);
  EXPECT_NE(m.recipients[0].last_reply.find("4.3.0"), std::string::npos)
      << m.recipients[0].last_reply;
  EXPECT_GE(m.next_attempt, t0 + std::chrono::seconds(1));

  fs::remove(mail() / "example.com" / "dave");
  ASSERT_TRUE(eventually([&] { return !spool->load(id); }, std::chrono::seconds(4)));
  EXPECT_EQ(mails_in("example.com", "dave"), 1U);
}

TEST_F(Runner, UnsafeLocalMailboxFailsForGood) {
  auto spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, settings());
  runner.start();
  const auto id =
      submit_and_wait(*spool, envelope("", {".hidden@example.com", "carol@remote.org"}), "x")
          .queue_id;
  ASSERT_TRUE(eventually([&] {
    const auto m = spool->load(id);
    return m && m->recipients[0].state == RecipientState::failed;
  }));
  EXPECT_EQ(spool->load(id)->recipients[0].attempts, 1);
  EXPECT_FALSE(fs::exists(mail() / "example.com" / ".hidden"));
}

class FakeCourier : public Courier {
 public:
  std::vector<RecipientResult> deliver(const spool::QueuedMessage& message, std::string_view data,
                                       const std::vector<std::size_t>& recipients) override {
    std::lock_guard lock(mu);
    std::vector<RecipientResult> out;
    for (const std::size_t i : recipients) {
      seen.push_back(message.recipients[i].recipient.address);
      bodies.emplace_back(data);
      RecipientResult r;
      r.outcome = seen.back().starts_with("ok") ? Outcome::delivered : Outcome::permanent;
      r.reply = r.outcome == Outcome::delivered ? "250 2.0.0 queued" : "550 5.1.1 no such user";
      r.where = "mx.remote.org";
      out.push_back(r);
    }
    return out;
  }
  std::mutex mu;
  std::vector<std::string> seen;
  std::vector<std::string> bodies;
};

TEST_F(Runner, RemoteRecipientsGoToTheRemoteCourier) {
  auto courier = std::make_shared<FakeCourier>();
  RunnerSettings s = settings();
  s.remote = courier;
  auto spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, s);
  runner.start();
  const auto id =
      submit_and_wait(*spool,
                      envelope("", {"ok@remote.org", "nobody@remote.org", "alice@example.com"}),
                      message_text("out"))
          .queue_id;
  ASSERT_TRUE(eventually([&] { return !spool->load(id); }));
  runner.stop();
  std::lock_guard lock(courier->mu);
  EXPECT_EQ(courier->seen, (std::vector<std::string>{"ok@remote.org", "nobody@remote.org"}));
  EXPECT_EQ(courier->bodies.at(0), message_text("out"));
  EXPECT_EQ(mails_in("example.com", "alice"), 1U);
}

// The local courier when it is an LMTP client (issue 19): its answers
// decide the result; "4.4.1" is what it says when the socket refuses or
// times out, "4.4.5" when only our own connection limit was reached.
class AnsweringCourier : public Courier {
 public:
  explicit AnsweringCourier(std::string reply, FailureKind kind = FailureKind::other)
      : reply_(std::move(reply)), kind_(kind) {}
  std::vector<RecipientResult> deliver(const spool::QueuedMessage&, std::string_view,
                                       const std::vector<std::size_t>& recipients) override {
    ++calls;
    return std::vector<RecipientResult>(
        recipients.size(),
        RecipientResult{Outcome::transient, reply_, "lmtp:unix:/run/lmtp", kind_});
  }
  std::atomic<int> calls{0};

 private:
  std::string reply_;
  FailureKind kind_;
};

std::optional<DestinationStatus> local_status(const QueueRunner& runner) {
  for (const auto& d : runner.destinations()) {
    if (d.destination == kLocalDestination) return d;
  }
  return std::nullopt;
}

TEST_F(Runner, AnLmtpServerThatDoesNotAnswerMakesTheLocalDestinationDead) {
  auto courier = std::make_shared<AnsweringCourier>(
      "4.4.1 LMTP server unreachable: connect /run/lmtp: Connection refused",
      FailureKind::unreachable);
  RunnerSettings s = settings();
  s.local = courier;
  s.limits.dead_backoff_initial = std::chrono::seconds(3600);
  s.limits.dead_backoff_max = std::chrono::seconds(3600);
  auto spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, s);
  runner.start();
  const auto id = submit_and_wait(*spool, envelope("", {"alice@example.com"}), "x").queue_id;
  ASSERT_TRUE(eventually([&] {
    const auto d = local_status(runner);
    return d && d->dead;
  }));
  EXPECT_NE(local_status(runner)->reason.find("Connection refused"), std::string::npos);
  // A second message to a dead destination waits for its backoff.
  submit_and_wait(*spool, envelope("", {"bob@example.com"}), "y");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(courier->calls.load(), 1);
  EXPECT_EQ(spool->load(id)->recipients[0].state, RecipientState::pending);
  runner.stop();
}

TEST_F(Runner, AnLmtpAnswerOrOurOwnLimitDoesNotMakeItDead) {
  for (const char* reply : {"452 4.2.2 Quota exceeded", "4.4.5 too many LMTP connections"}) {
    auto courier = std::make_shared<AnsweringCourier>(reply);
    RunnerSettings s = settings();
    s.local = courier;
    TempDir dir;
    auto spool = Spool::open(dir.path() / "spool", {});
    QueueRunner runner(*spool, s);
    runner.start();
    submit_and_wait(*spool, envelope("", {"alice@example.com"}), "x");
    ASSERT_TRUE(eventually([&] { return courier->calls.load() >= 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto d = local_status(runner);
    EXPECT_TRUE(!d || !d->dead) << reply;
    runner.stop();
  }
}

TEST_F(Runner, StopReturnsPromptlyWithRetriesOutstanding) {
  fs::create_directories(mail() / "example.com");
  std::ofstream(mail() / "example.com" / "dave") << "blocks the mailbox";
  auto spool = Spool::open(spool_dir(), {});
  RunnerSettings s = settings();
  s.retry_initial = std::chrono::seconds(3600);
  QueueRunner runner(*spool, s);
  runner.start();
  const auto id = submit_and_wait(*spool, envelope("", {"dave@example.com"}), "x").queue_id;
  ASSERT_TRUE(eventually([&] { return spool->load(id)->recipients[0].attempts == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  runner.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  // The spool can outlive the runner: later commits are ignored safely.
  EXPECT_FALSE(submit_and_wait(*spool, envelope("", {"x@example.com"}), "late").error);
}

}  // namespace
}  // namespace postern::delivery

namespace postern::delivery {
namespace {

// A remote courier whose deliveries to "stuck.test" block until cancel()
// (a silent peer); every other domain is delivered at once.
class StuckCourier final : public Courier, public testing::StuckTally {
 public:
  std::vector<RecipientResult> deliver(const spool::QueuedMessage& m, std::string_view,
                                       const std::vector<std::size_t>& rcpts) override {
    const std::string& address = m.recipients[rcpts.at(0)].recipient.address;
    std::unique_lock lock(mutex_);
    if (address.ends_with("@stuck.test")) {
      count_stuck_locked();
      cv_.notify_all();
      cv_.wait(lock, [&] { return cancelled_; });
      --stuck_now_;
      return std::vector<RecipientResult>(
          rcpts.size(), RecipientResult{Outcome::transient, "4.4.2 connection cut", "mx"});
    }
    delivered_.push_back(address);
    return std::vector<RecipientResult>(rcpts.size(),
                                        RecipientResult{Outcome::delivered, "250 ok", "mx"});
  }
  void cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  std::condition_variable cv_;
};

TEST_F(Runner, AStuckDestinationHoldsOnlyItsOwnSlots) {
  auto courier = std::make_shared<StuckCourier>();
  RunnerSettings s = settings();
  s.remote = courier;
  s.limits.max_connections = 3;
  s.limits.max_per_destination = 2;
  auto spool = Spool::open(spool_dir(), {});
  std::vector<std::string> stuck_ids;
  {
    QueueRunner runner(*spool, s);
    runner.start();
    for (int i = 0; i < 5; ++i) {
      stuck_ids.push_back(
          submit_and_wait(*spool, envelope("a@example.org", {"x@stuck.test"}), "x\r\n").queue_id);
    }
    ASSERT_TRUE(eventually([&] { return courier->stuck_now() == 2; }));
    // With both of stuck.test's slots taken (and 2 of 3 overall), another
    // domain and the local mailboxes still go at once.
    const auto other = submit_and_wait(*spool, envelope("a@example.org", {"y@fine.test"}), "x\r\n");
    const auto mine =
        submit_and_wait(*spool, envelope("a@example.org", {"alice@example.com"}), "x\r\n");
    ASSERT_TRUE(
        eventually([&] { return !spool->load(other.queue_id) && !spool->load(mine.queue_id); }));
    EXPECT_EQ(mails_in("example.com", "alice"), 1U);
    EXPECT_EQ(courier->delivered(), std::vector<std::string>{"y@fine.test"});
    EXPECT_EQ(courier->max_stuck(), 2);
    const auto status = runner.destinations();
    const auto it = std::find_if(status.begin(), status.end(),
                                 [](const auto& d) { return d.destination == "stuck.test"; });
    ASSERT_NE(it, status.end());
    EXPECT_EQ(it->in_flight, 2u);
    EXPECT_EQ(it->queued, 3u);
    testing::expect_prompt_stop(runner);
  }
  testing::expect_not_counted(*spool, stuck_ids);
}

}  // namespace
}  // namespace postern::delivery

namespace postern::delivery {
namespace {

// The queue fails to record a Maildir delivery (as if postern died between
// the link into new/ and the record): the retry, and a restart, find the
// file by its name and do not write a second copy.
TEST_F(Runner, AMaildirDeliveryTheQueueDidNotRecordIsNotRepeated) {
  std::atomic<int> updates_to_fail{1};
  spool::SpoolOptions options;
  options.fault_injector = [&](std::string_view step) {
    if (step == "update_write" && updates_to_fail.fetch_sub(1) > 0) {
      return std::make_error_code(std::errc::io_error);
    }
    return std::error_code{};
  };
  std::string id;
  {
    auto spool = Spool::open(spool_dir(), options);
    QueueRunner runner(*spool, settings());
    runner.start();
    id =
        submit_and_wait(*spool, envelope("a@example.org", {"alice@example.com"}), "x\r\n").queue_id;
    // The first record fails; the retry (after retry_initial) finds the
    // file and records it as delivered.
    ASSERT_TRUE(eventually([&] { return !spool->load(id); }, std::chrono::seconds(5)));
    EXPECT_EQ(mails_in("example.com", "alice"), 1U);
    runner.stop();
  }

  // The same after a restart: the record fails, the runner stops (a crash
  // would do the same), the next one resumes the message.
  updates_to_fail = 1;
  {
    auto spool = Spool::open(spool_dir(), options);
    QueueRunner runner(*spool, settings());
    runner.start();
    id = submit_and_wait(*spool, envelope("a@example.org", {"bob@example.com"}), "y\r\n").queue_id;
    ASSERT_TRUE(eventually([&] { return mails_in("example.com", "bob") == 1U; }));
    ASSERT_TRUE(eventually([&] { return updates_to_fail.load() <= 0; }));
    runner.stop();
    ASSERT_TRUE(spool->load(id));  // still queued: the delivery was not recorded
  }
  auto spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, settings());
  runner.start();
  ASSERT_TRUE(eventually([&] { return !spool->load(id); }));
  runner.stop();
  EXPECT_EQ(mails_in("example.com", "bob"), 1U);
}

}  // namespace
}  // namespace postern::delivery

namespace postern::delivery {
namespace {

// An asynchronous remote courier (like the SMTP one): deliver_async returns
// at once; deliveries to the `stuck` domains are answered only at cancel(),
// the others at once, all from a thread of the courier's own.
class AsyncStuckCourier final : public Courier, public testing::StuckTally {
 public:
  explicit AsyncStuckCourier(std::set<std::string> stuck)
      : stuck_(std::move(stuck)), loop_([this] { run(); }) {}
  ~AsyncStuckCourier() override {
    {
      std::lock_guard lock(mutex_);
      ending_ = true;
    }
    cv_.notify_all();
    loop_.join();
  }

  bool asynchronous() const override { return true; }
  std::vector<RecipientResult> deliver(const spool::QueuedMessage&, std::string_view,
                                       const std::vector<std::size_t>&) override {
    ADD_FAILURE() << "the runner used the blocking path";
    return {};
  }
  void deliver_async(const spool::QueuedMessage& m, std::shared_ptr<const std::string>,
                     std::vector<std::size_t> rcpts, Completion done) override {
    const std::string& address = m.recipients[rcpts.at(0)].recipient.address;
    const std::string domain = address.substr(address.rfind('@') + 1);
    std::lock_guard lock(mutex_);
    if (!cancelled_ && stuck_.contains(domain)) {
      count_stuck_locked();
      waiting_.push_back({std::move(done), rcpts.size()});
      return;
    }
    if (!cancelled_) delivered_.push_back(address);
    answers_.push_back({std::move(done), rcpts.size(),
                        cancelled_ ? RecipientResult{Outcome::transient, "4.3.2 stopping", "mx"}
                                   : RecipientResult{Outcome::delivered, "250 ok", "mx"}});
    cv_.notify_all();
  }
  void cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    for (auto& w : waiting_) {
      answers_.push_back({std::move(w.done), w.n,
                          RecipientResult{Outcome::transient, "4.4.2 connection cut", "mx"}});
    }
    waiting_.clear();
    stuck_now_ = 0;
    cv_.notify_all();
  }

 private:
  struct Waiting {
    Completion done;
    std::size_t n = 0;
  };
  struct Answer {
    Completion done;
    std::size_t n = 0;
    RecipientResult result;
  };
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return ending_ || !answers_.empty(); });
      if (answers_.empty()) return;
      Answer a = std::move(answers_.front());
      answers_.erase(answers_.begin());
      lock.unlock();
      a.done(std::vector<RecipientResult>(a.n, a.result));
      lock.lock();
    }
  }

  std::set<std::string> stuck_;
  std::condition_variable cv_;
  bool ending_ = false;
  std::vector<Waiting> waiting_;
  std::vector<Answer> answers_;
  std::thread loop_;
};

std::size_t threads_now() {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator("/proc/self/task"), fs::directory_iterator()));
}

TEST_F(Runner, AnAsynchronousCourierHoldsNoRunnerThreadPerDelivery) {
  auto courier = std::make_shared<AsyncStuckCourier>(std::set<std::string>{"stuck.test"});
  RunnerSettings s = settings();
  s.remote = courier;
  s.limits.max_connections = 100;
  s.limits.max_per_destination = 100;
  s.limits.local_concurrency = 2;
  auto spool = Spool::open(spool_dir(), {});
  std::vector<std::string> stuck_ids;
  {
    const std::size_t before = threads_now();
    QueueRunner runner(*spool, s);
    runner.start();
    for (int i = 0; i < 40; ++i) {
      stuck_ids.push_back(
          submit_and_wait(*spool, envelope("a@example.org", {"x@stuck.test"}), "x\r\n").queue_id);
    }
    ASSERT_TRUE(eventually([&] { return courier->stuck_now() == 40; }));
    // 40 deliveries in flight; the runner has its few threads, not 40.
    EXPECT_LE(threads_now(), before + 6);
    // Other mail still flows, remote and local.
    const auto other = submit_and_wait(*spool, envelope("a@example.org", {"y@fine.test"}), "x\r\n");
    const auto mine =
        submit_and_wait(*spool, envelope("a@example.org", {"alice@example.com"}), "x\r\n");
    ASSERT_TRUE(
        eventually([&] { return !spool->load(other.queue_id) && !spool->load(mine.queue_id); }));
    EXPECT_EQ(courier->delivered(), std::vector<std::string>{"y@fine.test"});
    testing::expect_prompt_stop(runner);
  }
  testing::expect_not_counted(*spool, stuck_ids);
}

TEST_F(Runner, DomainsWithTheSameMxHostsShareOneDestination) {
  auto courier =
      std::make_shared<AsyncStuckCourier>(std::set<std::string>{"a.test", "b.test", "lone.test"});
  RunnerSettings s = settings();
  s.remote = courier;
  s.limits.max_connections = 20;
  s.limits.max_per_destination = 2;
  std::atomic<int> lookups{0};
  s.lookup_mx = [&](const std::string& domain) {
    ++lookups;
    MxAnswer a;
    if (domain == "a.test" || domain == "b.test") {
      a.ok = true;
      a.hosts = {"mx2.shared.test", "mx1.shared.test"};
    } else if (domain == "lone.test") {
      a.ok = true;
      a.hosts = {"mx.lone.test"};
    } else {
      a.error = "SERVFAIL";
    }
    return a;
  };
  auto spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, s);
  runner.start();
  for (int i = 0; i < 3; ++i) {
    submit_and_wait(*spool, envelope("a@example.org", {"x@a.test"}), "x\r\n");
    submit_and_wait(*spool, envelope("a@example.org", {"y@b.test"}), "x\r\n");
  }
  submit_and_wait(*spool, envelope("a@example.org", {"z@lone.test"}), "x\r\n");
  const auto failed = submit_and_wait(*spool, envelope("a@example.org", {"w@nomx.test"}), "x\r\n");
  // The shared hosts get 2 in all, not 2 per domain; the lone host its own.
  ASSERT_TRUE(eventually([&] { return courier->stuck_now() == 3; }));
  // A domain whose lookup failed is its own destination and is delivered.
  ASSERT_TRUE(eventually([&] { return !spool->load(failed.queue_id); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(courier->stuck_now(), 3);
  const auto status = runner.destinations();
  const auto shared = std::find_if(status.begin(), status.end(), [](const auto& d) {
    return d.destination == "mx:mx1.shared.test,mx2.shared.test";
  });
  ASSERT_NE(shared, status.end());
  EXPECT_EQ(shared->in_flight, 2u);
  EXPECT_EQ(shared->queued, 4u);
  EXPECT_TRUE(std::any_of(status.begin(), status.end(),
                          [](const auto& d) { return d.destination == "mx:mx.lone.test"; }));
  EXPECT_EQ(courier->delivered(), std::vector<std::string>{"w@nomx.test"});
  // One lookup per domain, however many messages.
  EXPECT_EQ(lookups.load(), 4);
  runner.stop();
}

}  // namespace
}  // namespace postern::delivery
