#include "delivery/queue_runner.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>

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

class Runner : public ::testing::Test {
 protected:
  fs::path spool_dir() const { return dir_.path() / "spool"; }
  fs::path mail() const { return dir_.path() / "mail"; }

  RunnerSettings settings() const {
    RunnerSettings s;
    s.mail_root = mail();
    s.local_domains = {"example.com", "Example.NET"};
    s.workers = 2;
    s.retry_initial = std::chrono::seconds(1);
    s.retry_max = std::chrono::seconds(4);
    return s;
  }

  std::size_t mails_in(const std::string& domain, const std::string& local) const {
    return files_in(mail() / domain / local / "new").size();
  }

  TempDir dir_;
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
