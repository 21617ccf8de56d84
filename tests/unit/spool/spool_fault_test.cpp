// Failures at every durable step: no callback may report success for a
// batch that is not on disk, nothing that failed may be queued (now or
// after a restart), and the spool works again once the cause is gone.
#include <gtest/gtest.h>

#include <fstream>
#include <mutex>

#include "spool/spool.hpp"
#include "unit/spool/spool_test_util.hpp"

namespace postern::spool {
namespace {

namespace fs = std::filesystem;
using namespace postern::spool::testing;

// Fails the named step while armed, with ENOSPC or EIO.
struct Injector {
  std::mutex mu;
  std::string step;
  std::error_code error;
  int hits = 0;

  SpoolOptions options() {
    SpoolOptions o;
    o.fault_injector = [this](std::string_view s) {
      std::lock_guard lock(mu);
      if (!error || s != step) return std::error_code{};
      ++hits;
      return error;
    };
    return o;
  }
  void arm(std::string s, std::errc e) {
    std::lock_guard lock(mu);
    step = std::move(s);
    error = std::make_error_code(e);
  }
  void disarm() {
    std::lock_guard lock(mu);
    error.clear();
  }
};

// Submits `n` messages at once (so they share batches) and returns results.
std::vector<SubmitResult> submit_many(Spool& spool, int n) {
  std::vector<std::promise<SubmitResult>> promises(static_cast<std::size_t>(n));
  std::vector<std::future<SubmitResult>> futures;
  for (auto& p : promises) {
    futures.push_back(p.get_future());
    spool.submit(envelope("a@example.org", {"b@example.com"}), message_text("fault"),
                 [&p](SubmitResult r) { p.set_value(std::move(r)); });
  }
  std::vector<SubmitResult> out;
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

// A failing step, either in a batch that starts a new segment file or in
// one appended to the segment that is open.
struct CommitStep {
  const char* step;
  bool new_segment_per_batch;
};

std::ostream& operator<<(std::ostream& out, const CommitStep& s) {
  return out << s.step << (s.new_segment_per_batch ? " (new segment)" : " (open segment)");
}

class CommitFault : public ::testing::TestWithParam<CommitStep> {};

TEST_P(CommitFault, FailsTheWholeBatchAndLeavesNothingQueued) {
  TempDir dir;
  Injector inj;
  SpoolOptions options = inj.options();
  if (GetParam().new_segment_per_batch) options.segment_bytes = 1;
  auto spool = Spool::open(dir.path() / "spool", options);
  const std::string before =
      submit_and_wait(*spool, envelope("a@example.org", {"b@example.com"}), "kept").queue_id;
  ASSERT_FALSE(before.empty());

  for (const std::errc e : {std::errc::no_space_on_device, std::errc::io_error}) {
    inj.arm(GetParam().step, e);
    for (const SubmitResult& r : submit_many(*spool, 20)) {
      EXPECT_EQ(r.error, std::make_error_code(e)) << GetParam();
      EXPECT_TRUE(r.queue_id.empty());
    }
    EXPECT_GT(inj.hits, 0);
    // Only what was acknowledged is queued, in memory and on disk: a failed
    // batch's new file is removed, and a failed append is cut off again.
    ASSERT_EQ(spool->list().size(), 1U);
    const auto files = files_in(dir.path() / "spool" / "queue");
    ASSERT_EQ(files.size(), 1U);
    SpoolOptions reader;
    reader.read_only = true;
    EXPECT_EQ(Spool::open(dir.path() / "spool", reader)->list().size(), 1U);
  }

  inj.disarm();
  for (const SubmitResult& r : submit_many(*spool, 5)) EXPECT_FALSE(r.error) << r.error.message();
  EXPECT_EQ(spool->list().size(), 6U);
  spool.reset();
  EXPECT_EQ(Spool::open(dir.path() / "spool", {})->list().size(), 6U);
}

INSTANTIATE_TEST_SUITE_P(EveryStep, CommitFault,
                         ::testing::Values(CommitStep{"open", true}, CommitStep{"write", true},
                                           CommitStep{"fsync", true}, CommitStep{"dir_fsync", true},
                                           CommitStep{"write", false}, CommitStep{"fsync", false}));

class UpdateFault : public ::testing::TestWithParam<const char*> {};

TEST_P(UpdateFault, ReportsTheErrorAndKeepsTheConfirmedState) {
  TempDir dir;
  Injector inj;
  std::string id;
  {
    auto spool = Spool::open(dir.path() / "spool", inj.options());
    id = submit_and_wait(*spool, envelope("a@example.org", {"b@example.com", "c@example.com"}), "x")
             .queue_id;
    auto m = *spool->load(id);
    m.recipients[0].state = RecipientState::delivered;
    inj.arm(GetParam(), std::errc::io_error);
    EXPECT_EQ(spool->update(m), std::errc::io_error);
    EXPECT_EQ(spool->remove(id), std::errc::io_error);
    EXPECT_EQ(spool->load(id)->recipients[0].state, RecipientState::pending);
  }
  inj.disarm();
  {
    auto spool = Spool::open(dir.path() / "spool", inj.options());
    auto m = *spool->load(id);
    EXPECT_EQ(m.recipients[0].state, RecipientState::pending);
    m.recipients[0].state = RecipientState::delivered;
    ASSERT_FALSE(spool->update(m));
  }
  auto spool = Spool::open(dir.path() / "spool", {});
  EXPECT_EQ(spool->load(id)->recipients[0].state, RecipientState::delivered);
  EXPECT_EQ(spool->load(id)->recipients[1].state, RecipientState::pending);
}

INSTANTIATE_TEST_SUITE_P(EveryStep, UpdateFault, ::testing::Values("update_write", "update_fsync"));

TEST(SpoolFolder, ReplacedByAFileFailsThenRecovers) {
  TempDir dir;
  const fs::path root = dir.path() / "spool";
  auto spool = Spool::open(root, {});
  ASSERT_FALSE(submit_and_wait(*spool, envelope("", {"x@example.com"}), "1").error);

  // Someone replaces the queue folder with a file.
  fs::rename(root / "queue", dir.path() / "queue.moved");
  std::ofstream(root / "queue") << "not a folder";
  const SubmitResult failed = submit_and_wait(*spool, envelope("", {"x@example.com"}), "2");
  EXPECT_TRUE(failed.error);
  EXPECT_TRUE(failed.queue_id.empty());

  // And the whole spool folder.
  fs::remove(root / "queue");
  fs::rename(root, dir.path() / "spool.moved");
  std::ofstream(root) << "not a folder";
  EXPECT_TRUE(submit_and_wait(*spool, envelope("", {"x@example.com"}), "3").error);

  // Fixed: the operator puts the folder back.
  fs::remove(root);
  fs::rename(dir.path() / "spool.moved", root);
  fs::rename(dir.path() / "queue.moved", root / "queue");
  const SubmitResult ok = submit_and_wait(*spool, envelope("", {"x@example.com"}), "4");
  ASSERT_FALSE(ok.error) << ok.error.message();
  spool.reset();
  EXPECT_EQ(Spool::open(root, {})->list().size(), 2U);
}

TEST(SpoolFolder, RemovedEntirelyIsRecreatedForNewMail) {
  TempDir dir;
  const fs::path root = dir.path() / "spool";
  auto spool = Spool::open(root, {});
  fs::remove_all(root);
  const SubmitResult ok = submit_and_wait(*spool, envelope("", {"x@example.com"}), "new");
  ASSERT_FALSE(ok.error) << ok.error.message();
  spool.reset();
  EXPECT_EQ(Spool::open(root, {})->list().size(), 1U);
}

TEST(SpoolFolder, UnwritableFolderAnswersWithAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores permissions";
  TempDir dir;
  const fs::path root = dir.path() / "spool";
  auto spool = Spool::open(root, {});
  fs::permissions(root / "queue", fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_EQ(submit_and_wait(*spool, envelope("", {"x@example.com"}), "x").error,
            std::errc::permission_denied);
  fs::permissions(root / "queue", fs::perms::owner_all);
  EXPECT_FALSE(submit_and_wait(*spool, envelope("", {"x@example.com"}), "x").error);
}

}  // namespace
}  // namespace postern::spool
