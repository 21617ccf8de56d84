#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <mutex>

#include "spool/spool.hpp"
#include "unit/spool/spool_test_util.hpp"

namespace postern::spool {
namespace {

using namespace postern::spool::testing;

TEST(Spool, AcknowledgesListsLoadsAndReadsBack) {
  TempDir dir;
  auto spool = Spool::open(dir.path() / "spool", {});
  const std::string data = message_text("one");
  const SubmitResult r =
      submit_and_wait(*spool, envelope("a@example.org", {"b@example.com", "c@example.net"}), data);
  ASSERT_FALSE(r.error) << r.error.message();
  EXPECT_EQ(r.queue_id.size(), 16U);

  const auto all = spool->list();
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(all[0].id, r.queue_id);
  EXPECT_EQ(all[0].size, data.size());
  EXPECT_EQ(all[0].envelope.mail_from, "a@example.org");
  ASSERT_EQ(all[0].recipients.size(), 2U);
  EXPECT_EQ(all[0].recipients[1].recipient.address, "c@example.net");
  EXPECT_EQ(all[0].recipients[1].state, RecipientState::pending);

  const auto loaded = spool->load(r.queue_id);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->envelope.helo, "client.test");
  std::string back;
  ASSERT_TRUE(spool->read_data(r.queue_id, back));
  EXPECT_EQ(back, data);
  EXPECT_FALSE(spool->load("0000000000000000"));
  EXPECT_FALSE(spool->read_data("0000000000000000", back));
}

TEST(Spool, EmptyMessageAndBinaryBytesSurvive) {
  TempDir dir;
  auto spool = Spool::open(dir.path() / "spool", {});
  std::string binary;
  for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
  const auto a = submit_and_wait(*spool, envelope("", {"x@example.com"}), "");
  const auto b = submit_and_wait(*spool, envelope("", {"x@example.com"}), binary);
  ASSERT_FALSE(a.error);
  ASSERT_FALSE(b.error);
  spool.reset();
  spool = Spool::open(dir.path() / "spool", {});
  std::string out = "junk";
  ASSERT_TRUE(spool->read_data(a.queue_id, out));
  EXPECT_EQ(out, "");
  ASSERT_TRUE(spool->read_data(b.queue_id, out));
  EXPECT_EQ(out, binary);
  EXPECT_EQ(spool->load(a.queue_id)->envelope.mail_from, "");
}

TEST(Spool, UpdateIsDurableAndFinishedMessagesLeave) {
  TempDir dir;
  std::string id;
  {
    auto spool = Spool::open(dir.path() / "spool", {});
    id = submit_and_wait(*spool, envelope("a@example.org", {"b@example.com", "c@example.net"}),
                         message_text("two"))
             .queue_id;
    auto m = *spool->load(id);
    m.recipients[0].state = RecipientState::delivered;
    m.recipients[0].attempts = 1;
    m.recipients[0].last_reply = "2.0.0 ok";
    m.recipients[1].attempts = 1;
    m.recipients[1].last_reply = "451 4.7.1 greylisted";
    m.next_attempt = m.arrival + std::chrono::minutes(1);
    ASSERT_FALSE(spool->update(m));
    EXPECT_EQ(spool->load(id)->recipients[1].last_reply, "451 4.7.1 greylisted");
  }
  // A restart sees exactly what update() confirmed.
  auto spool = Spool::open(dir.path() / "spool", {});
  auto m = spool->load(id);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->recipients[0].state, RecipientState::delivered);
  EXPECT_EQ(m->recipients[0].last_reply, "2.0.0 ok");
  EXPECT_EQ(m->recipients[1].state, RecipientState::pending);
  EXPECT_EQ(m->recipients[1].attempts, 1);
  EXPECT_EQ(m->next_attempt, m->arrival + std::chrono::minutes(1));

  m->recipients[1].state = RecipientState::failed;
  ASSERT_FALSE(spool->update(*m));
  EXPECT_FALSE(spool->load(id));
  EXPECT_TRUE(spool->list().empty());
  EXPECT_TRUE(files_in(dir.path() / "spool" / "queue").empty());
  spool.reset();
  spool = Spool::open(dir.path() / "spool", {});
  EXPECT_TRUE(spool->list().empty());
}

TEST(Spool, UpdateRejectsUnknownIdsAndWrongShapes) {
  TempDir dir;
  auto spool = Spool::open(dir.path() / "spool", {});
  const auto id =
      submit_and_wait(*spool, envelope("a@example.org", {"b@example.com"}), "x").queue_id;
  auto m = *spool->load(id);
  m.recipients.push_back(m.recipients[0]);
  EXPECT_EQ(spool->update(m), std::errc::invalid_argument);
  m.id = "0000000000000000";
  EXPECT_EQ(spool->update(m), std::errc::no_such_file_or_directory);
  EXPECT_EQ(spool->remove("0000000000000000"), std::errc::no_such_file_or_directory);
}

TEST(Spool, RemoveIsDurableAndKeepsTheRestOfTheBatch) {
  TempDir dir;
  SpoolOptions opts;
  std::vector<std::string> ids;
  {
    auto spool = Spool::open(dir.path() / "spool", opts);
    std::mutex mu;
    std::vector<std::future<void>> waits;
    std::vector<std::promise<void>> promises(3);
    for (int i = 0; i < 3; ++i) {
      waits.push_back(promises[static_cast<std::size_t>(i)].get_future());
      spool->submit(envelope("a@example.org", {"b@example.com"}), message_text("m"),
                    [&, i](SubmitResult r) {
                      std::lock_guard lock(mu);
                      ids.push_back(r.queue_id);
                      promises[static_cast<std::size_t>(i)].set_value();
                    });
    }
    for (auto& w : waits) w.get();
    ASSERT_FALSE(spool->remove(ids[1]));
    EXPECT_EQ(spool->list().size(), 2U);
  }
  auto spool = Spool::open(dir.path() / "spool", opts);
  EXPECT_TRUE(spool->load(ids[0]));
  EXPECT_FALSE(spool->load(ids[1]));
  EXPECT_TRUE(spool->load(ids[2]));
}

TEST(Spool, OnCommittedSeesEveryAcknowledgedMessage) {
  TempDir dir;
  auto spool = Spool::open(dir.path() / "spool", {});
  std::mutex mu;
  std::vector<std::string> seen;
  spool->on_committed([&](const QueuedMessage& m) {
    std::lock_guard lock(mu);
    seen.push_back(m.id);
  });
  const auto a = submit_and_wait(*spool, envelope("", {"x@example.com"}), "a").queue_id;
  const auto b = submit_and_wait(*spool, envelope("", {"x@example.com"}), "b").queue_id;
  // Subscribers run right after the submitter's own callback.
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return seen.size() == 2;
  }));
  std::lock_guard lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{a, b}));
}

TEST(Spool, BatchesShareTheOpenSegmentUntilItIsFull) {
  TempDir dir;
  SpoolOptions opts;
  opts.segment_bytes = 2000;  // a few small messages per segment
  std::vector<std::string> ids;
  {
    auto spool = Spool::open(dir.path() / "spool", opts);
    for (int i = 0; i < 12; ++i) {
      const auto r = submit_and_wait(*spool, envelope("a@example.org", {"b@example.com"}),
                                     message_text("m" + std::to_string(i)));
      ASSERT_FALSE(r.error) << r.error.message();
      ids.push_back(r.queue_id);
    }
    const std::size_t segments = files_in(dir.path() / "spool" / "queue").size();
    EXPECT_GT(segments, 1U);   // full segments were left for new ones
    EXPECT_LT(segments, 12U);  // and batches did share them
  }
  auto spool = Spool::open(dir.path() / "spool", {});
  ASSERT_EQ(spool->list().size(), 12U);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::string data;
    ASSERT_TRUE(spool->read_data(ids[i], data));
    EXPECT_EQ(data, message_text("m" + std::to_string(i)));
  }
}

TEST(Spool, OpenSegmentLeavesWithItsLastMessageAndTheNextBatchStartsANewOne) {
  TempDir dir;
  const auto queue = dir.path() / "spool" / "queue";
  auto spool = Spool::open(dir.path() / "spool", {});
  const auto a = submit_and_wait(*spool, envelope("", {"x@example.com"}), "a");
  ASSERT_FALSE(a.error);
  auto m = *spool->load(a.queue_id);
  m.recipients[0].state = RecipientState::delivered;
  ASSERT_FALSE(spool->update(m));
  EXPECT_TRUE(files_in(queue).empty());  // nothing queued, nothing on disk
  const auto b = submit_and_wait(*spool, envelope("", {"x@example.com"}), "b");
  ASSERT_FALSE(b.error) << b.error.message();
  EXPECT_EQ(files_in(queue).size(), 1U);
  spool.reset();
  spool = Spool::open(dir.path() / "spool", {});
  ASSERT_EQ(spool->list().size(), 1U);
  EXPECT_EQ(spool->list()[0].id, b.queue_id);
}

TEST(Spool, WithoutFsyncMessagesAreWrittenOnTheSubmittingThread) {
  TempDir dir;
  SpoolOptions opts;
  opts.unsafe_no_fsync = true;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::mutex mu;
  std::map<std::string, std::string> stored;  // queue id -> body
  {
    auto spool = Spool::open(dir.path() / "spool", opts);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const std::string body = message_text("t" + std::to_string(t) + "m" + std::to_string(i));
          const auto caller = std::this_thread::get_id();
          bool called = false;
          spool->submit(envelope("a@example.org", {"b@example.com"}), body, [&](SubmitResult r) {
            EXPECT_FALSE(r.error) << r.error.message();
            EXPECT_EQ(std::this_thread::get_id(), caller);
            called = true;
            std::lock_guard lock(mu);
            stored[r.queue_id] = body;
          });
          EXPECT_TRUE(called) << "the callback ran before submit returned";
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  ASSERT_EQ(stored.size(), static_cast<std::size_t>(kThreads * kPerThread));
  auto spool = Spool::open(dir.path() / "spool", {});
  ASSERT_EQ(spool->list().size(), stored.size());
  for (const auto& [id, body] : stored) {
    std::string data;
    ASSERT_TRUE(spool->read_data(id, data)) << id;
    EXPECT_EQ(data, body);
  }
}

TEST(Spool, GroupCommitUnderConcurrencyCallsBackOnceAndKeepsEverything) {
  TempDir dir;
  std::atomic<int> fsyncs{0};
  SpoolOptions opts;
  opts.fault_injector = [&](std::string_view step) {
    if (step == "fsync") ++fsyncs;
    return std::error_code{};
  };
  constexpr int kThreads = 8;
  constexpr int kPerThread = 150;
  std::mutex mu;
  std::map<std::string, int> calls;  // queue id -> callbacks
  std::map<std::string, std::string> bodies;
  std::atomic<int> errors{0};
  std::atomic<int> outstanding{kThreads * kPerThread};
  std::promise<void> all_done;
  {
    auto spool = Spool::open(dir.path() / "spool", opts);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          std::string body = message_text("t" + std::to_string(t) + "m" + std::to_string(i));
          spool->submit(envelope("a@example.org", {"b@example.com"}), body,
                        [&, body](SubmitResult r) {
                          {
                            std::lock_guard lock(mu);
                            if (r.error) {
                              ++errors;
                            } else {
                              ++calls[r.queue_id];
                              bodies[r.queue_id] = body;
                            }
                          }
                          if (--outstanding == 0) all_done.set_value();
                        });
        }
      });
    }
    for (auto& t : threads) t.join();
    all_done.get_future().get();
    EXPECT_EQ(errors.load(), 0);
    ASSERT_EQ(calls.size(), static_cast<std::size_t>(kThreads * kPerThread));
    for (const auto& [id, n] : calls) EXPECT_EQ(n, 1) << id;
    // Group commit: far fewer fsyncs than messages.
    EXPECT_LT(fsyncs.load(), kThreads * kPerThread / 2);
  }
  // Everything acknowledged is found again after a restart, byte for byte.
  auto spool = Spool::open(dir.path() / "spool", {});
  const auto all = spool->list();
  ASSERT_EQ(all.size(), calls.size());
  for (const auto& m : all) {
    std::string data;
    ASSERT_TRUE(spool->read_data(m.id, data));
    EXPECT_EQ(data, bodies[m.id]);
  }
}

TEST(Spool, ShutdownFinishesWhatWasSubmitted) {
  TempDir dir;
  std::atomic<int> ok{0};
  {
    auto spool = Spool::open(dir.path() / "spool", {});
    for (int i = 0; i < 50; ++i) {
      spool->submit(envelope("", {"x@example.com"}), "m", [&](SubmitResult r) {
        if (!r.error) ++ok;
      });
    }
    spool->shutdown();
    EXPECT_EQ(ok.load(), 50);
    // After shutdown nothing can be stored, and the caller hears so.
    std::error_code late;
    spool->submit(envelope("", {"x@example.com"}), "m", [&](SubmitResult r) { late = r.error; });
    EXPECT_TRUE(late);
  }
  EXPECT_EQ(Spool::open(dir.path() / "spool", {})->list().size(), 50U);
}

TEST(Spool, ReadOnlyOpenListsAndReadsWhileTheWriterRuns) {
  TempDir dir;
  auto spool = Spool::open(dir.path() / "spool", {});
  const auto id =
      submit_and_wait(*spool, envelope("a@example.org", {"b@example.com"}), message_text("ro"))
          .queue_id;
  SpoolOptions ro;
  ro.read_only = true;
  auto reader = Spool::open(dir.path() / "spool", ro);
  ASSERT_EQ(reader->list().size(), 1U);
  std::string data;
  ASSERT_TRUE(reader->read_data(id, data));
  EXPECT_EQ(data, message_text("ro"));
  // The reader sees later changes, and cannot change anything itself.
  auto m = *spool->load(id);
  m.recipients[0].last_reply = "451 later";
  ASSERT_FALSE(spool->update(m));
  EXPECT_EQ(reader->load(id)->recipients[0].last_reply, "451 later");
  EXPECT_EQ(reader->update(m), std::errc::read_only_file_system);
  EXPECT_EQ(reader->remove(id), std::errc::read_only_file_system);
  EXPECT_EQ(submit_and_wait(*reader, envelope("", {"x@example.com"}), "x").error,
            std::errc::read_only_file_system);
  EXPECT_THROW(Spool::open(dir.path() / "missing", ro), std::system_error);
}

TEST(Spool, OpenFailsLoudlyWhenTheFolderIsUnusable) {
  TempDir dir;
  std::ofstream(dir.path() / "file") << "x";
  EXPECT_THROW(Spool::open(dir.path() / "file", {}), std::system_error);
}

}  // namespace
}  // namespace postern::spool

namespace postern::spool {
namespace {

using namespace postern::spool::testing;

// Delivery results recorded from many threads at once while new mail keeps
// arriving: the state records share writes and syncs (group commit, some
// riding with the writer's batches of new messages), and a restart sees
// every one that update() confirmed, and every message still queued.
TEST(Spool, ConcurrentUpdatesWhileMailArrivesAreAllDurable) {
  TempDir dir;
  constexpr int kThreads = 8;
  constexpr int kEach = 20;
  std::vector<std::string> delivered;
  std::vector<std::string> deferred;
  std::vector<std::string> arrived;
  {
    auto spool = Spool::open(dir.path() / "spool", {});
    std::vector<std::string> ids;
    for (int i = 0; i < kThreads * kEach; ++i) {
      ids.push_back(submit_and_wait(*spool, envelope("a@example.org", {"b@example.com"}),
                                    message_text("m" + std::to_string(i)))
                        .queue_id);
    }
    std::atomic<bool> stop{false};
    std::mutex arrived_mutex;
    std::thread submitter([&] {
      while (!stop) {
        const std::string id = submit_and_wait(*spool, envelope("a@example.org", {"c@example.com"}),
                                               message_text("new"))
                                   .queue_id;
        std::lock_guard lock(arrived_mutex);
        arrived.push_back(id);
      }
    });
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int k = 0; k < kEach; ++k) {
          auto m = *spool->load(ids[static_cast<std::size_t>(t * kEach + k)]);
          m.recipients[0].attempts = 1;
          // Every other one delivered (it leaves the queue), the rest deferred.
          if (k % 2 == 0) {
            m.recipients[0].state = RecipientState::delivered;
            m.recipients[0].last_reply = "2.0.0 ok";
          } else {
            m.recipients[0].last_reply = "451 4.7.1 later";
          }
          if (spool->update(m)) ++failures;
        }
      });
    }
    for (auto& t : threads) t.join();
    stop = true;
    submitter.join();
    EXPECT_EQ(failures.load(), 0);
    for (int i = 0; i < kThreads * kEach; ++i) {
      ((i % kEach) % 2 == 0 ? delivered : deferred).push_back(ids[static_cast<std::size_t>(i)]);
    }
  }
  auto spool = Spool::open(dir.path() / "spool", {});
  for (const auto& id : delivered) EXPECT_FALSE(spool->load(id)) << id;
  for (const auto& id : deferred) {
    const auto m = spool->load(id);
    ASSERT_TRUE(m) << id;
    EXPECT_EQ(m->recipients[0].attempts, 1);
    EXPECT_EQ(m->recipients[0].last_reply, "451 4.7.1 later");
  }
  for (const auto& id : arrived) {
    const auto m = spool->load(id);
    ASSERT_TRUE(m) << id;
    EXPECT_EQ(m->recipients[0].state, RecipientState::pending);
  }
  EXPECT_EQ(spool->list().size(), deferred.size() + arrived.size());
}

}  // namespace
}  // namespace postern::spool
