// Which delivery runs next: the pure core of the queue runner (no threads,
// no I/O, no clock of its own; the time is passed in, so tests drive it
// with a fake clock).
//
// A job is one delivery attempt of one queued message to one destination.
// A destination is where a courier takes mail: the recipient domain for
// direct MX delivery (the "nexthop" Postfix counts its per-destination
// concurrency by), "smarthost" when everything remote goes through one,
// and "local" for the Maildirs. The core bounds what is in flight:
//
// - remote jobs all together: max_connections;
// - each remote destination: max_per_destination, lowered to 1 while the
//   destination is "dead" (it timed out or refused) and raised by one per
//   success after it answers again, like Postfix's concurrency feedback;
// - local jobs on their own lane (local_concurrency), which never counts
//   against the remote bounds, so a slow remote world never delays
//   delivery to our own mailboxes. When the mailboxes are behind an LMTP
//   server, "local" can be dead too (lowered to 1 like a remote one).
//
// A dead destination is not tried again before its backoff ends (doubling
// from dead_backoff_initial up to dead_backoff_max while it stays dead);
// its queued jobs wait without being attempted, and the change is reported
// once as an event, not once per message. Destinations take turns (round
// robin), so one with thousands of due messages cannot starve the others.
// A message may have jobs for several destinations in flight at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace postern::delivery {

inline constexpr const char* kLocalDestination = "local";
inline constexpr const char* kSmarthostDestination = "smarthost";

struct SchedulerLimits {
  std::size_t max_connections = 20;     // remote jobs in flight, all destinations
  std::size_t max_per_destination = 4;  // per remote destination
  std::size_t local_concurrency = 8;    // Maildir deliveries in flight
  std::chrono::seconds dead_backoff_initial{60};
  std::chrono::seconds dead_backoff_max{3600};
};

struct Job {
  std::string message_id;
  std::string destination;
  bool operator==(const Job&) const = default;
};

// How a finished job went, as far as its destination is concerned.
enum class Verdict {
  answered,     // the destination took part (delivered, refused, deferred by reply)
  unreachable,  // no host of the destination answered (refused, timed out)
  interrupted,  // cut short by stop(): says nothing about the destination
};

// Something an operator should see once (logged by the edge).
struct DestinationEvent {
  enum class Kind { down, still_down, up } kind = Kind::down;
  std::string destination;
  std::string reason;  // the failure that made (or kept) it dead
  std::chrono::system_clock::time_point retry_at{};
};

// What the core knows about one destination, for `postern queue` and logs.
struct DestinationStatus {
  std::string destination;
  std::size_t queued = 0;  // jobs waiting (due or not)
  std::size_t in_flight = 0;
  std::size_t limit = 0;  // jobs it may have in flight now
  bool dead = false;
  std::string reason;                                // why it is dead
  std::chrono::system_clock::time_point retry_at{};  // end of the backoff
  std::chrono::system_clock::time_point next_due{};  // earliest queued job
};

class Scheduler {
 public:
  using Time = std::chrono::system_clock::time_point;

  explicit Scheduler(SchedulerLimits limits);

  // Queues `job` to start no earlier than `due`. A job already queued keeps
  // the earlier of the two times. A job in flight is queued again for
  // `due` once it finishes (an operator flush while it runs).
  void add(const Job& job, Time due);

  // The next job that may start at `now`, marked in flight; nullopt when
  // nothing may start (see wake_time for when to ask again).
  std::optional<Job> next(Time now);

  // When next() may have something, if nothing changes before: the
  // earliest due time or backoff end among destinations with a free slot.
  // Time::max() when there is nothing to wait for.
  Time wake_time(Time now) const;

  // A job from next() is over. Returns what the operator should be told.
  std::vector<DestinationEvent> finished(const Job& job, Verdict verdict, const std::string& reason,
                                         Time now);

  // Operator changes: whether any job of the message is in flight, and
  // taking all its queued jobs away (returned with their due times so
  // they can be put back when the change fails).
  bool busy(const std::string& message_id) const;
  std::vector<std::pair<Job, Time>> remove_message(const std::string& message_id);

  std::vector<DestinationStatus> status(Time now) const;
  std::size_t in_flight() const { return remote_in_flight_ + local_in_flight_; }
  std::size_t queued() const { return queued_jobs_; }

 private:
  struct Destination {
    std::set<std::pair<Time, std::string>> queue;  // (due, message id)
    std::map<std::string, Time> due;               // message id -> due
    std::set<std::string> running;                 // message ids in flight
    std::map<std::string, Time> again;             // re-added while in flight
    std::size_t limit = 0;
    int failures = 0;  // first failure and failed probes since it last answered
    bool dead = false;
    std::string reason;
    Time retry_at{};
  };

  bool is_local(const std::string& destination) const { return destination == kLocalDestination; }
  std::size_t full_limit(const std::string& destination) const;
  bool has_slot(const std::string& name, const Destination& d, Time now) const;
  std::chrono::seconds backoff(int failures) const;
  void drop_if_idle(std::map<std::string, Destination>::iterator it);

  SchedulerLimits limits_;
  std::map<std::string, Destination> destinations_;
  std::map<std::string, std::size_t> busy_messages_;  // message id -> jobs in flight
  std::string last_started_;                          // round-robin cursor
  std::size_t remote_in_flight_ = 0;
  std::size_t local_in_flight_ = 0;
  std::size_t queued_jobs_ = 0;
};

}  // namespace postern::delivery
