// Takes messages out of the spool and delivers them, asynchronously from the
// SMTP sessions. Local recipients go into Maildirs; remote recipients go to
// the remote courier when one is set, and otherwise stay queued.
//
// Scheduling (scheduler.hpp, docs/delivery.md): each message is split into
// one job per destination (the MX host sets of its recipient domains, or
// the smarthost, and the local mailboxes). As many jobs run at once as the
// scheduler allows: max_connections remote jobs overall, at most
// max_per_destination per destination (one while it is dead), and the local
// lane on its own. Jobs of one message to different destinations run in
// parallel; their results are merged into the message's queue record one
// at a time.
//
// Threads: a few delivery threads load a job's message, hand it to its
// courier and record the results. An asynchronous courier (the SMTP one,
// Courier::asynchronous) returns at once and posts its results back later,
// so remote deliveries in flight hold no thread here; a blocking courier
// (the Maildirs, LMTP) holds one thread per job, and the local lane has
// local_concurrency threads of its own so it never waits behind remote
// work.
//
// Retries: a recipient that failed transiently is tried again after
// retry_initial, doubling with each attempt up to retry_max (1 min, 2, 4,
// ... capped at 1 h by default). A recipient still failing transiently
// max_queue_lifetime after the message arrived fails for good (4.4.7).
// Failed recipients are reported to the sender in one RFC 3464 bounce per
// attempt, which goes through the spool like any message; mail from the
// null sender is never bounced (SPEC §1.5).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "delivery/courier.hpp"
#include "delivery/mx_destinations.hpp"
#include "delivery/scheduler.hpp"
#include "spool/spool.hpp"

namespace postern::delivery {

struct RunnerSettings {
  std::filesystem::path mail_root;         // <data_dir>/mail
  std::vector<std::string> local_domains;  // lowercased
  // Bounds on what is in flight (max_connections, per destination, local
  // lane) and the backoff of a dead destination.
  SchedulerLimits limits;
  // Remote mail all goes through one smarthost: one destination for all.
  bool smarthost = false;
  // Delivers to non-local domains; when null they stay pending with
  // last_reply "remote delivery is not available yet" and are not retried.
  std::shared_ptr<Courier> remote;
  // Delivers to local mailboxes instead of the built-in Maildir courier
  // (e.g. LMTP to Dovecot). Scheduled the same way: the "local" lane.
  std::shared_ptr<Courier> local;
  // Looks up a domain's MX host set (blocking; runs on a few lookup threads
  // of the runner). When set, and without a smarthost, remote jobs are
  // scheduled per MX host set instead of per domain (mx_destinations.hpp):
  // a message to a domain not seen before waits for this lookup before it
  // is scheduled. Unset (tests), the recipient domain is the destination.
  std::function<MxAnswer(const std::string& domain)> lookup_mx;
  // Threads for lookup_mx.
  std::size_t lookup_threads = 4;
  std::chrono::seconds retry_initial{60};
  std::chrono::seconds retry_max{3600};
  // RFC 5321 §4.5.4.1: give up after "at least 4-5 days".
  std::chrono::seconds max_queue_lifetime{5 * 24 * 3600};
  // Names this server in bounces (Reporting-MTA, From: MAILER-DAEMON@...).
  std::string hostname = "localhost";
};

// The wait before the next attempt after `attempts` failed ones (>= 1).
std::chrono::seconds retry_delay(int attempts, std::chrono::seconds initial,
                                 std::chrono::seconds max);

class QueueRunner {
 public:
  QueueRunner(spool::Spool& spool, RunnerSettings settings);
  ~QueueRunner();
  QueueRunner(const QueueRunner&) = delete;
  QueueRunner& operator=(const QueueRunner&) = delete;
  // Resumes every queued message and subscribes to new commits.
  void start();
  // Stops promptly: no new attempt starts, attempts in progress are told to
  // give up (Courier::cancel) and are waited for. What an interrupted
  // attempt delivered or refused for good is recorded; its temporary
  // failures are not, so the message is due at once after a restart.
  void stop();
  // What the scheduler knows per destination (in flight, queued, dead,
  // next try), for `postern queue destinations` and tests.
  std::vector<DestinationStatus> destinations() const;
  // Makes a queued message due now (e.g. `postern queue flush`, or a
  // remote courier that became available).
  void wake(const std::string& queue_id);
  // Makes every queued message that is not held due now (`postern queue
  // flush`); returns how many.
  std::size_t wake_all();
  // Operator changes (`postern queue hold|release|delete`). Each waits until
  // no delivery attempt of the message is in progress and keeps new ones
  // from starting meanwhile, so an attempt that began before the change
  // cannot undo it when it records its results. A released message is due
  // at once. Errors: no_such_file_or_directory when the message is not
  // queued, operation_canceled once stop() was called, or the spool's.
  std::error_code hold(const std::string& queue_id);
  std::error_code release(const std::string& queue_id);
  std::error_code remove(const std::string& queue_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace postern::delivery
