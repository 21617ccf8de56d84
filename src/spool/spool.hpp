// The durable queue. A message handed to submit() is acknowledged to the SMTP
// client only after the callback reports success, and success is reported
// only after the message file and its directory entry are on stable storage
// (SPEC §1.4). Many sessions' messages are made durable together (group
// commit) so that one fsync covers a batch.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/envelope.hpp"

namespace postern::spool {

enum class RecipientState { pending, delivered, failed };

// A recipient that failed for good whose bounce is not yet known to be
// queued: it stays pending with this set until the bounce is durable, so a
// restart in between sends the bounce instead of losing it
// (delivery/bouncer.hpp).
struct OwedBounce {
  std::string reply;  // the failure reply the bounce reports
  std::string where;  // the remote host that gave it ("host[ip]:port"), empty for local failures
  bool operator==(const OwedBounce&) const = default;
};

struct RecipientStatus {
  Recipient recipient;
  RecipientState state = RecipientState::pending;
  int attempts = 0;
  std::string last_reply;                 // last remote/local reply or error text
  std::optional<OwedBounce> bounce_owed;  // only while state is pending
};

// What `postern queue` shows as a recipient's last reply: the reply, marked
// "bounce pending: (where) " while a bounce is owed.
std::string last_reply_text(const RecipientStatus& recipient);

struct QueuedMessage {
  std::string id;  // queue id, unique, safe as a file name
  Envelope envelope;
  std::chrono::system_clock::time_point arrival{};
  std::vector<RecipientStatus> recipients;
  std::chrono::system_clock::time_point next_attempt{};
  bool held = false;
  std::size_t size = 0;  // bytes of message data
};

struct SubmitResult {
  std::error_code error;  // empty on success
  std::string queue_id;   // set on success
};

struct SpoolOptions {
  // Benchmark-only: acknowledge without fsync. Never a default; the config
  // key that sets it is named so that nobody turns it on by accident.
  bool unsafe_no_fsync = false;
  // Upper bound on messages per group commit.
  std::size_t max_batch = 256;
  // A segment file takes batch after batch until it holds this many bytes;
  // the next batch then starts a new one. Smaller means less disk kept by a
  // segment with one message still deferred; larger means fewer file
  // creations. 1 gives every batch its own segment (tests use that).
  std::uint64_t segment_bytes = 8 << 20;
  // Opens an existing spool for reading only (`postern queue` while the
  // server runs): no writer thread, no recovery actions (nothing is
  // quarantined or deleted), list()/load() read the disk afresh on each
  // call, and submit()/update()/remove() fail with EROFS.
  bool read_only = false;
  // Tests only: called before each durable step of a group commit and of
  // update()/remove() with the step's name ("open" and "dir_fsync" when a
  // batch starts a new segment file, "write" and "fsync" for every batch,
  // "update_write" and "update_fsync"); a non-empty error code makes that
  // step fail with it as if the system call had.
  std::function<std::error_code(std::string_view step)> fault_injector;
};

class Spool {
 public:
  // Creates <spool_dir> and its subfolders if needed. Throws
  // std::system_error at start-up when the folder cannot be used.
  static std::unique_ptr<Spool> open(const std::filesystem::path& spool_dir, SpoolOptions options);
  virtual ~Spool() = default;

  // Thread-safe. Stores the message durably and calls `done` exactly once,
  // from the spool's own thread (with unsafe_no_fsync, from the calling
  // thread before submit returns). The callback must not block. After
  // shutdown() (or on a read-only spool) `done` runs at once on the calling
  // thread with an error, since nothing can be stored any more.
  //
  // `id`, when not empty, comes from allocate_id(): the SMTP session names
  // the queue id in the Received header it writes (as Postfix does), so the
  // id must exist before the message is stored. Empty: the spool picks one.
  virtual void submit(Envelope envelope, std::string data, std::function<void(SubmitResult)> done,
                      std::string id = {}) = 0;

  // Thread-safe. A fresh queue id, unique and in arrival order like the
  // ones submit() picks. An id that is never submitted is simply unused.
  virtual std::string allocate_id() = 0;

  // Every message currently in the queue (used at start-up to resume work
  // and by `postern queue list`).
  virtual std::vector<QueuedMessage> list() = 0;
  virtual std::optional<QueuedMessage> load(const std::string& id) = 0;
  virtual bool read_data(const std::string& id, std::string& out) = 0;

  // Durably records per-recipient results of a delivery attempt. When no
  // recipient is left pending the message is removed from the queue.
  virtual std::error_code update(const QueuedMessage& message) = 0;
  virtual std::error_code remove(const std::string& id) = 0;

  // Called (from the spool's thread) after each successful commit, so the
  // delivery side can pick the message up without polling.
  virtual void on_committed(std::function<void(const QueuedMessage&)> callback) = 0;

  // Stops the writer thread after finishing what was submitted.
  virtual void shutdown() = 0;
};

}  // namespace postern::spool
