// Crash leftovers: whatever a crash can leave in the spool folder, recovery
// keeps every acknowledged message and never delivers what was torn.
#include <gtest/gtest.h>

#include <fstream>

#include "spool/spool.hpp"
#include "unit/spool/spool_test_util.hpp"

namespace postern::spool {
namespace {

namespace fs = std::filesystem;
using namespace postern::spool::testing;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void spit(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A complete segment made by a spool elsewhere, to be planted (whole or
// damaged) into the spool under test.
struct Donor {
  TempDir dir;
  fs::path segment;
  std::string bytes;
  std::string id;

  explicit Donor(int messages = 1) {
    // The writer is held on its first batch (one extra message) until all
    // donor messages are queued, so they are committed together.
    std::promise<void> gate;
    std::shared_future<void> open_gate = gate.get_future().share();
    std::atomic<bool> first{true};
    SpoolOptions options;
    options.segment_bytes = 1;  // each batch in its own segment, as planted below
    options.fault_injector = [&](std::string_view step) {
      if (step == "open" && first.exchange(false)) open_gate.wait();
      return std::error_code{};
    };
    auto spool = Spool::open(dir.path() / "spool", options);
    spool->submit(envelope("", {"x@example.com"}), "blocker", [](SubmitResult) {});
    while (first.load()) std::this_thread::yield();
    std::vector<std::future<SubmitResult>> results;
    std::vector<std::promise<SubmitResult>> promises(static_cast<std::size_t>(messages));
    for (auto& p : promises) {
      results.push_back(p.get_future());
      spool->submit(envelope("donor@example.org", {"x@example.com"}), message_text("donor"),
                    [&p](SubmitResult r) { p.set_value(r); });
    }
    gate.set_value();
    for (auto& r : results) id = r.get().queue_id;
    spool->shutdown();
    // The donor batch is the larger of the two segments.
    for (const fs::path& f : files_in(dir.path() / "spool" / "queue")) {
      if (segment.empty() || fs::file_size(f) > fs::file_size(segment)) segment = f;
    }
    bytes = slurp(segment);
  }
};

class Recovery : public ::testing::Test {
 protected:
  void SetUp() override {
    auto spool = Spool::open(root(), {});
    good_ =
        submit_and_wait(*spool, envelope("a@example.org", {"b@example.com"}), message_text("good"))
            .queue_id;
    ASSERT_FALSE(good_.empty());
  }
  fs::path root() const { return dir_.path() / "spool"; }
  fs::path queue() const { return root() / "queue"; }
  fs::path corrupt() const { return root() / "corrupt"; }

  // Reopens the spool and checks that exactly the good message is queued.
  std::unique_ptr<Spool> reopen_expecting_only_good() {
    auto spool = Spool::open(root(), {});
    const auto all = spool->list();
    EXPECT_EQ(all.size(), 1U);
    if (!all.empty()) {
      EXPECT_EQ(all[0].id, good_);
    }
    std::string data;
    EXPECT_TRUE(spool->read_data(good_, data));
    EXPECT_EQ(data, message_text("good"));
    return spool;
  }

  TempDir dir_;
  std::string good_;
};

TEST_F(Recovery, TornSegmentsAreQuarantinedAtEveryLength) {
  Donor donor;
  const std::string name = donor.segment.filename().string();
  // Every proper prefix of a batch is a write that never completed, so
  // never acknowledged: none may be picked up.
  for (std::size_t len = 0; len < donor.bytes.size(); len += 7) {
    spit(queue() / name, std::string_view(donor.bytes).substr(0, len));
    reopen_expecting_only_good();
    EXPECT_FALSE(fs::exists(queue() / name)) << "length " << len;
    EXPECT_TRUE(fs::exists(corrupt() / name)) << "length " << len;
    fs::remove(corrupt() / name);
  }
  // The whole segment is a valid, acknowledged batch.
  spit(queue() / name, donor.bytes);
  auto spool = Spool::open(root(), {});
  EXPECT_EQ(spool->list().size(), 2U);
  EXPECT_TRUE(spool->load(donor.id));
}

// One segment written by a spool elsewhere: batch A, batch B, a state
// record for A, batch C, with the file size after each step.
struct SharedSegment {
  TempDir dir;
  std::string name;
  std::string bytes;
  std::string a, b, c;
  std::uint64_t after_a = 0, after_b = 0, after_state = 0;

  SharedSegment() {
    auto spool = Spool::open(dir.path() / "spool", {});
    const fs::path queue = dir.path() / "spool" / "queue";
    a = submit_and_wait(*spool, envelope("", {"x@example.com"}), message_text("a")).queue_id;
    after_a = size(queue);
    b = submit_and_wait(*spool, envelope("", {"x@example.com"}), message_text("b")).queue_id;
    after_b = size(queue);
    auto m = *spool->load(a);
    m.recipients[0].attempts = 1;
    m.recipients[0].last_reply = "451 try later";
    EXPECT_FALSE(spool->update(m));
    after_state = size(queue);
    c = submit_and_wait(*spool, envelope("", {"x@example.com"}), message_text("c")).queue_id;
    spool.reset();
    const auto files = files_in(queue);
    EXPECT_EQ(files.size(), 1U) << "the three batches were meant to share one segment";
    name = files.at(0).filename().string();
    bytes = slurp(files.at(0));
    // Closing gave back the zeros written ahead of the batches.
    EXPECT_EQ(bytes.size(), records_end(files.at(0)));
  }

  static std::uint64_t size(const fs::path& queue) {
    const auto files = files_in(queue);
    return files.size() == 1 ? records_end(files[0]) : 0;
  }
};

TEST_F(Recovery, BatchesSharingASegmentSurviveATornLaterBatchAtEveryLength) {
  SharedSegment seg;
  ASSERT_GT(seg.after_a, 0U);
  ASSERT_LT(seg.after_a, seg.after_b);
  ASSERT_LT(seg.after_b, seg.after_state);
  for (std::size_t len = 0; len <= seg.bytes.size(); len += 5) {
    spit(queue() / seg.name, std::string_view(seg.bytes).substr(0, len));
    {
      auto spool = Spool::open(root(), {});
      // Exactly the batches whose commit record is whole, and A's state
      // once its record is whole.
      const bool has_a = len >= seg.after_a;
      const bool has_b = len >= seg.after_b;
      const bool has_c = len == seg.bytes.size();
      EXPECT_EQ(static_cast<bool>(spool->load(seg.a)), has_a) << "length " << len;
      EXPECT_EQ(static_cast<bool>(spool->load(seg.b)), has_b) << "length " << len;
      EXPECT_EQ(static_cast<bool>(spool->load(seg.c)), has_c) << "length " << len;
      EXPECT_EQ(spool->list().size(), 1U + has_a + has_b + has_c) << "length " << len;
      if (has_a) {
        EXPECT_EQ(spool->load(seg.a)->recipients[0].attempts, len >= seg.after_state ? 1 : 0)
            << "length " << len;
        std::string data;
        EXPECT_TRUE(spool->read_data(seg.a, data));
        EXPECT_EQ(data, message_text("a"));
      }
      // No committed batch at all: a torn first write, moved aside.
      EXPECT_EQ(fs::exists(corrupt() / seg.name), !has_a) << "length " << len;
    }
    fs::remove(queue() / seg.name);
    fs::remove(corrupt() / seg.name);
  }
}

TEST_F(Recovery, TornBatchAfterCommittedOnesIsOverwrittenByTheNextAppend) {
  SharedSegment seg;
  // A crash in the middle of writing batch C.
  const std::uint64_t torn = seg.after_state + (seg.bytes.size() - seg.after_state) / 2;
  spit(queue() / seg.name, std::string_view(seg.bytes).substr(0, torn));
  {
    auto spool = Spool::open(root(), {});
    ASSERT_EQ(spool->list().size(), 3U);  // good, A and B
    auto m = *spool->load(seg.b);
    m.recipients[0].attempts = 2;
    m.recipients[0].last_reply = "452 mailbox full";
    ASSERT_FALSE(spool->update(m));
  }
  // The state record replaced the torn bytes; the file ends with it.
  EXPECT_LT(fs::file_size(queue() / seg.name), torn);
  auto spool = Spool::open(root(), {});
  ASSERT_EQ(spool->list().size(), 3U);
  EXPECT_EQ(spool->load(seg.b)->recipients[0].attempts, 2);
  EXPECT_EQ(spool->load(seg.a)->recipients[0].attempts, 1);
  EXPECT_FALSE(spool->load(seg.c));
  EXPECT_FALSE(fs::exists(corrupt() / seg.name));
}

TEST_F(Recovery, ZerosWrittenAheadAreRoomNotDamage) {
  std::string name;
  std::string crashed;  // the open segment as a crash would leave it
  std::string a;
  {
    auto spool = Spool::open(root(), {});
    a = submit_and_wait(*spool, envelope("", {"x@example.com"}), message_text("a")).queue_id;
    ASSERT_FALSE(a.empty());
    for (const fs::path& f : files_in(queue())) {
      if (fs::file_size(f) > records_end(f)) {
        name = f.filename().string();
        crashed = slurp(f);
      }
    }
  }
  ASSERT_FALSE(name.empty()) << "the open segment had no zeros written ahead";
  const std::uint64_t end = records_end(queue() / name);
  ASSERT_GT(crashed.size(), end);
  ASSERT_EQ(crashed.find_first_not_of('\0', end), std::string::npos);
  spit(queue() / name, crashed);
  {
    auto spool = Spool::open(root(), {});
    ASSERT_EQ(spool->list().size(), 2U);  // the good one and A
    auto m = *spool->load(a);
    m.recipients[0].attempts = 1;
    ASSERT_FALSE(spool->update(m));
    // The state record went over the zeros: nothing was cut or grown.
    EXPECT_EQ(fs::file_size(queue() / name), crashed.size());
    EXPECT_GT(records_end(queue() / name), end);
  }
  auto spool = Spool::open(root(), {});
  EXPECT_EQ(spool->load(a)->recipients[0].attempts, 1);
  EXPECT_FALSE(fs::exists(corrupt() / name));
}

TEST_F(Recovery, ForeignAndTemporaryFilesAreQuarantined) {
  spit(queue() / "leftover.tmp", "partial");
  spit(queue() / "0123456789ABCDEF.seg.tmp.123", "partial");
  spit(queue() / "0123456789ABCDEF.seg", "");
  reopen_expecting_only_good();
  EXPECT_TRUE(fs::exists(corrupt() / "leftover.tmp"));
  EXPECT_TRUE(fs::exists(corrupt() / "0123456789ABCDEF.seg.tmp.123"));
  EXPECT_TRUE(fs::exists(corrupt() / "0123456789ABCDEF.seg"));
  EXPECT_EQ(files_in(queue()).size(), 1U);
}

TEST_F(Recovery, FlippedBitInACommittedBatchFailsOnlyThatMessage) {
  Donor donor(2);
  // Damage the last byte of the first body ("...donor.\r\n" -> "...donor.\rX").
  const std::size_t pos =
      donor.bytes.find(message_text("donor")) + message_text("donor").size() - 1;
  std::string damaged = donor.bytes;
  damaged[pos] = 'X';
  const std::string name = donor.segment.filename().string();
  spit(queue() / name, damaged);
  auto spool = Spool::open(root(), {});
  EXPECT_EQ(spool->list().size(), 2U);  // the good one and the undamaged donor message
  EXPECT_TRUE(spool->load(donor.id));
  EXPECT_TRUE(fs::exists(corrupt() / name));  // kept for inspection
}

TEST_F(Recovery, TornStateAppendKeepsThePreviousStateAndIsOverwritten) {
  fs::path segment;
  {
    auto spool = Spool::open(root(), {});
    auto m = *spool->load(good_);
    m.recipients[0].attempts = 1;
    m.recipients[0].last_reply = "first";
    ASSERT_FALSE(spool->update(m));
    m.recipients[0].attempts = 2;
    m.recipients[0].last_reply = "second";
    ASSERT_FALSE(spool->update(m));
    segment = files_in(queue()).at(0);
  }
  // A crash in the middle of the second append.
  fs::resize_file(segment, fs::file_size(segment) - 3);
  {
    auto spool = reopen_expecting_only_good();
    auto m = *spool->load(good_);
    EXPECT_EQ(m.recipients[0].last_reply, "first");
    EXPECT_EQ(m.recipients[0].attempts, 1);
    // The next update replaces the torn bytes.
    m.recipients[0].attempts = 3;
    m.recipients[0].last_reply = "third";
    ASSERT_FALSE(spool->update(m));
  }
  auto spool = reopen_expecting_only_good();
  EXPECT_EQ(spool->load(good_)->recipients[0].last_reply, "third");
  EXPECT_EQ(spool->load(good_)->recipients[0].attempts, 3);
}

TEST_F(Recovery, DamageFoundWhileReadingIsNotDelivered) {
  auto spool = Spool::open(root(), {});
  const fs::path segment = files_in(queue()).at(0);
  std::string bytes = slurp(segment);
  const std::size_t pos = bytes.find("this is good");
  ASSERT_NE(pos, std::string::npos);
  bytes[pos] = 'T';
  spit(segment, bytes);  // after the recovery check: bit rot while running
  std::string data;
  EXPECT_FALSE(spool->read_data(good_, data));
  EXPECT_FALSE(spool->load(good_));
  EXPECT_TRUE(fs::exists(corrupt() / segment.filename()));
}

TEST_F(Recovery, SegmentWhoseMessagesAreAllFinishedIsDeletedAgain) {
  // An unlink lost in a crash: the segment is back, but its state records
  // say every recipient is done. A hard link made beforehand shares the
  // inode, so it holds exactly what the disk held before the unlink.
  const fs::path keep = dir_.path() / "kept.seg";
  fs::path segment;
  {
    auto spool = Spool::open(root(), {});
    segment = files_in(queue()).at(0);
    fs::create_hard_link(segment, keep);
    auto m = *spool->load(good_);
    m.recipients[0].state = RecipientState::delivered;
    ASSERT_FALSE(spool->update(m));
    EXPECT_FALSE(fs::exists(segment));
  }
  fs::rename(keep, segment);
  auto spool = Spool::open(root(), {});
  EXPECT_TRUE(spool->list().empty());
  EXPECT_FALSE(fs::exists(segment));
}

TEST_F(Recovery, OwedBounceSurvivesARestartAndATornAppend) {
  fs::path segment;
  {
    auto spool = Spool::open(root(), {});
    auto m = *spool->load(good_);
    m.recipients[0].attempts = 1;
    m.recipients[0].last_reply = "550 5.1.1 no such user";
    m.recipients[0].bounce_owed = OwedBounce{"550 5.1.1 no such user", "mx[192.0.2.7]:25"};
    ASSERT_FALSE(spool->update(m));
    m.held = true;
    m.recipients[0].bounce_owed->reply = "torn";
    ASSERT_FALSE(spool->update(m));
    segment = files_in(queue()).at(0);
  }
  // A crash in the middle of the second append: the first one stands.
  fs::resize_file(segment, fs::file_size(segment) - 3);
  auto spool = reopen_expecting_only_good();
  EXPECT_FALSE(spool->load(good_)->held);
  const auto r = spool->load(good_)->recipients[0];
  EXPECT_EQ(r.state, RecipientState::pending);
  ASSERT_TRUE(r.bounce_owed);
  EXPECT_EQ(r.bounce_owed->reply, "550 5.1.1 no such user");
  EXPECT_EQ(r.bounce_owed->where, "mx[192.0.2.7]:25");
}

TEST_F(Recovery, LegacyOwedMarkInASegmentIsReadAsAnOwedBounce) {
  // The state record today's spools already hold: the owed bounce as a
  // "bounce pending: " prefix of the last reply (before it had a field).
  // With no owed bounce set, today's encoder writes exactly those bytes.
  {
    auto spool = Spool::open(root(), {});
    auto m = *spool->load(good_);
    m.recipients[0].attempts = 2;
    m.recipients[0].last_reply = "bounce pending: (mx[192.0.2.7]:25) 550 5.1.1 no such user";
    ASSERT_FALSE(spool->update(m));
  }
  auto spool = reopen_expecting_only_good();
  const auto r = spool->load(good_)->recipients[0];
  EXPECT_EQ(r.state, RecipientState::pending);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.last_reply, "550 5.1.1 no such user");
  ASSERT_TRUE(r.bounce_owed);
  EXPECT_EQ(r.bounce_owed->where, "mx[192.0.2.7]:25");
  EXPECT_EQ(last_reply_text(r), "bounce pending: (mx[192.0.2.7]:25) 550 5.1.1 no such user");
}

}  // namespace
}  // namespace postern::spool
