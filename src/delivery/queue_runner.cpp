#include "delivery/queue_runner.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <variant>

#include "delivery/bouncer.hpp"
#include "delivery/destination.hpp"
#include "delivery/local_courier.hpp"
#include "metrics/server_metrics.hpp"
#include "obs/log.hpp"

namespace postern::delivery {
namespace {

using Clock = std::chrono::system_clock;
using spool::QueuedMessage;
using spool::RecipientState;

constexpr std::string_view kNoRemote = "remote delivery is not available yet";
// destination_of() for a recipient whose domain's MX host set is being
// looked up; never a scheduler destination.
constexpr std::string_view kAwaitingLookup = "?awaiting-mx-lookup";
// Replies are stored in the queue and shown by `postern queue`; a runaway
// remote reply must not bloat every state record.
constexpr std::size_t kMaxReply = 512;

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

constexpr std::size_t kMessageLocks = 64;

struct JobLess {
  bool operator()(const Job& a, const Job& b) const {
    return std::tie(a.message_id, a.destination) < std::tie(b.message_id, b.destination);
  }
};

// The spool's commit callback may run (on the spool's thread) while the
// runner goes away; it reaches the runner only through this, under its lock.
template <typename T>
struct Bridge {
  std::mutex mutex;
  T* target = nullptr;
};

}  // namespace

std::chrono::seconds retry_delay(int attempts, std::chrono::seconds initial,
                                 std::chrono::seconds max) {
  std::chrono::seconds d = initial;
  for (int i = 1; i < attempts && d < max; ++i) d *= 2;
  return std::min(d, max);
}

struct QueueRunner::Impl {
  Impl(spool::Spool& s, RunnerSettings r)
      : spool(s),
        settings(std::move(r)),
        local(settings.mail_root),
        bouncer(spool, settings.hostname),
        core(settings.limits) {
    for (std::string& d : settings.local_domains) d = lowercase(d);
  }

  // The destination a recipient's job goes to; empty when there is no
  // courier for it (remote mail without a remote courier), kAwaitingLookup
  // while its domain's MX host set is not known yet.
  std::string destination_of(const std::string& address) const {
    std::string d = destination_for(address, settings.local_domains, settings.smarthost);
    if (!settings.remote && d != kLocalDestination) d.clear();
    if (d.empty() || d == kLocalDestination || settings.smarthost || !settings.lookup_mx) return d;
    std::lock_guard lock(mx_mutex);
    return mx.destination(d).value_or(std::string(kAwaitingLookup));
  }

  static std::string domain_of(const std::string& address) {
    const std::size_t at = address.rfind('@');
    return at == std::string::npos ? std::string() : lowercase(address.substr(at + 1));
  }

  // ---- MX host sets (lookup threads) ------------------------------------------

  // Asks for `domain`'s MX host set unless a lookup of it is under way.
  void request_lookup_locked(const std::string& domain) {
    if (!lookups_pending.insert(domain).second) return;
    lookup_queue.push_back(domain);
    lookup_cv.notify_one();
  }

  void lookup_worker() {
    std::unique_lock lock(mutex);
    for (;;) {
      lookup_cv.wait(lock, [&] { return stopping || !lookup_queue.empty(); });
      if (stopping) return;
      const std::string domain = lookup_queue.front();
      lookup_queue.pop_front();
      lock.unlock();
      const MxAnswer answer = settings.lookup_mx(domain);
      std::string destination;
      bool changed = false;
      {
        std::lock_guard mx_lock(mx_mutex);
        const auto before = mx.destination(domain);
        destination = mx.answer(domain, answer, Clock::now());
        changed = before != destination;
      }
      if (changed) {
        if (answer.ok) {
          obs::event("destination", "domain={} destination={}", obs::sanitize(domain),
                     obs::sanitize(destination));
        } else {
          obs::warning("destination", "domain={} destination={} reason=\"MX lookup failed: {}\"",
                       obs::sanitize(domain), obs::sanitize(destination),
                       obs::sanitize(answer.error));
        }
      }
      lock.lock();
      lookups_pending.erase(domain);
      std::map<std::string, Clock::time_point> waiting;
      if (const auto it = awaiting.find(domain); it != awaiting.end()) {
        waiting = std::move(it->second);
        awaiting.erase(it);
      }
      lock.unlock();
      // The messages that waited for this answer get their jobs now.
      for (const auto& [id, due] : waiting) {
        if (std::optional<QueuedMessage> m = spool.load(id); m && !m->held) schedule(*m, due);
      }
      lock.lock();
    }
  }

  // ---- scheduling (all under `mutex`) --------------------------------------

  // Queues a job per destination that still has pending recipients.
  void schedule_locked(const QueuedMessage& m, Clock::time_point due) {
    std::set<std::string> seen;
    bool unroutable = false;
    bool awaits = false;
    const auto now = Clock::now();
    for (const auto& r : m.recipients) {
      if (r.state != RecipientState::pending) continue;
      const std::string d = destination_of(r.recipient.address);
      if (d.empty()) {
        unroutable = true;
        continue;
      }
      if (settings.lookup_mx && !settings.smarthost && d != kLocalDestination) {
        const std::string domain = domain_of(r.recipient.address);
        bool stale = false;
        {
          std::lock_guard mx_lock(mx_mutex);
          stale = mx.needs_lookup(domain, now);
        }
        if (stale) request_lookup_locked(domain);
        if (d == kAwaitingLookup) {
          // Scheduled when the answer comes (lookup_worker).
          auto [it, fresh] = awaiting[domain].try_emplace(m.id, due);
          if (!fresh) it->second = std::min(it->second, due);
          awaits = true;
          continue;
        }
      }
      if (!seen.insert(d).second) continue;
      add_locked(Job{m.id, d}, due);
    }
    // Remote recipients without a courier get their reason recorded once
    // by a job of their own.
    if (unroutable && seen.empty() && !awaits) add_locked(Job{m.id, kLocalDestination}, due);
  }

  void add_locked(const Job& job, Clock::time_point due) {
    if (claimed.contains(job.message_id)) {
      auto [it, fresh] = parked.try_emplace(job, due);
      if (!fresh) it->second = std::min(it->second, due);
      return;
    }
    core.add(job, due);
    // One worker is enough for one job (waking all of them on every job,
    // ten threads on two cores, cost more CPU than the job); a worker that
    // takes a job wakes the next one in case there are more.
    cv.notify_one();
  }

  void schedule(const QueuedMessage& m, Clock::time_point due) {
    std::lock_guard lock(mutex);
    if (stopping) return;
    schedule_locked(m, due);
  }

  struct JobResult {
    Verdict verdict = Verdict::answered;
    std::string reason;
    std::optional<Clock::time_point> retry_at;
    bool recorded_local = false;  // local results are durable in the queue
    bool record_failed = false;
    bool message_done = false;  // nothing left pending (or the message is gone)
  };

  // A job whose courier answers later (Courier::asynchronous), with what
  // it needs to record the answer.
  struct Prepared {
    QueuedMessage message;
    std::shared_ptr<const std::string> data;
    std::vector<std::size_t> rcpts;
    bool remote = false;
    bool unrecorded_hint = false;
  };
  struct Answered {
    Job job;
    std::shared_ptr<Prepared> prepared;
    std::vector<RecipientResult> results;
  };

  void worker() {
    std::unique_lock lock(mutex);
    for (;;) {
      // Results an asynchronous courier posted back come first: they free
      // scheduler slots.
      if (!answered.empty()) {
        Answered a = std::move(answered.front());
        answered.pop_front();
        lock.unlock();
        const JobResult result = finish(a.job, *a.prepared, std::move(a.results));
        lock.lock();
        conclude(a.job, result);
        --async_in_flight;
        // While stopping, the others wait for async_in_flight to drop.
        if (stopping) cv.notify_all();
        continue;
      }
      if (stopping) {
        // Stay to record what the couriers still owe (they were cancelled
        // and answer at once).
        if (async_in_flight == 0) return;
        cv.wait(lock);
        continue;
      }
      const auto now = Clock::now();
      std::optional<Job> job = core.next(now);
      if (!job) {
        const auto wake = core.wake_time(now);
        if (wake == Clock::time_point::max()) {
          cv.wait(lock);
        } else {
          cv.wait_until(lock, wake);
        }
        continue;
      }
      const bool unrecorded_hint = unrecorded.contains(job->message_id);
      // Pass the wake-up on: another job may be due too.
      cv.notify_one();
      lock.unlock();
      std::variant<JobResult, Prepared> prepared = prepare(*job, unrecorded_hint);
      if (auto* over = std::get_if<JobResult>(&prepared)) {
        lock.lock();
        conclude(*job, *over);
        continue;
      }
      auto p = std::make_shared<Prepared>(std::move(std::get<Prepared>(prepared)));
      Courier* courier = p->remote ? settings.remote.get() : settings.local.get();
      if (courier && courier->asynchronous()) {
        lock.lock();
        ++async_in_flight;
        lock.unlock();
        courier->deliver_async(p->message, p->data, p->rcpts,
                               [this, job = *job, p](std::vector<RecipientResult> results) {
                                 std::lock_guard done_lock(mutex);
                                 answered.push_back(Answered{job, p, std::move(results)});
                                 cv.notify_one();
                               });
        lock.lock();
        continue;
      }
      // The courier seam: every courier is scheduled alike; only the
      // built-in Maildir one can use the hint that an earlier attempt may
      // have delivered unrecorded (its file names find such deliveries).
      std::vector<RecipientResult> results =
          courier ? courier->deliver(p->message, *p->data, p->rcpts)
                  : local.deliver(p->message, *p->data, p->rcpts, p->unrecorded_hint);
      const JobResult result = finish(*job, *p, std::move(results));
      lock.lock();
      conclude(*job, result);
    }
  }

  // A job is over: the scheduler frees its slot and hears how its
  // destination did. Under `mutex`.
  void conclude(const Job& job, const JobResult& result) {
    for (const DestinationEvent& e :
         core.finished(job, result.verdict, result.reason, Clock::now())) {
      log_event(e);
    }
    if (result.retry_at && !stopping) core.add(job, *result.retry_at);
    if (result.recorded_local || result.message_done) unrecorded.erase(job.message_id);
    if (result.record_failed) unrecorded.insert(job.message_id);
    // A slot is free: one waiting worker may take a job now; an operator
    // change may have been waiting for this job.
    cv.notify_one();
    change_cv.notify_all();
  }

  void log_event(const DestinationEvent& e) {
    const auto in = std::chrono::duration_cast<std::chrono::seconds>(e.retry_at - Clock::now());
    switch (e.kind) {
      case DestinationEvent::Kind::down:
        obs::warning("destination",
                     "destination={} state=dead reason=\"{}\" retry_in={}s "
                     "note=\"one connection at a time until it answers\"",
                     obs::sanitize(e.destination), obs::sanitize(e.reason), in.count());
        break;
      case DestinationEvent::Kind::still_down:
        obs::warning("destination", "destination={} state=dead reason=\"{}\" retry_in={}s",
                     obs::sanitize(e.destination), obs::sanitize(e.reason), in.count());
        break;
      case DestinationEvent::Kind::up:
        obs::event("destination", "destination={} state=alive", obs::sanitize(e.destination));
        break;
    }
  }

  // ---- one job ---------------------------------------------------------------

  std::mutex& lock_for(const std::string& id) {
    return message_locks[std::hash<std::string>{}(id) % kMessageLocks];
  }

  // Changes the queued message under its lock, on a fresh copy, so that
  // jobs of the same message to other destinations (which record their
  // own recipients) are not overwritten. `change` returns false to leave
  // the record as it is. False when the message is gone or the spool
  // refused the update.
  bool modify(const std::string& id, const std::function<bool(QueuedMessage&)>& change) {
    std::lock_guard lock(lock_for(id));
    std::optional<QueuedMessage> m = spool.load(id);
    if (!m) return false;
    if (!change(*m)) return true;
    return record(*m);
  }

  // A recipient that failed in an earlier attempt whose bounce is not yet
  // known to be queued (see bouncer.hpp).
  static bool owes_bounce(const spool::RecipientStatus& r) {
    return r.state == RecipientState::pending && r.bounce_owed.has_value();
  }

  // The first half of a job: finds the message's pending recipients for
  // the job's destination and reads the message. A JobResult when there is
  // nothing for a courier to do.
  std::variant<JobResult, Prepared> prepare(const Job& job, bool unrecorded_hint) {
    JobResult out;
    const std::string& id = job.message_id;
    std::optional<QueuedMessage> loaded = spool.load(id);
    out.message_done = !loaded;
    if (!loaded || loaded->held) return out;  // gone, or held until released
    QueuedMessage& m = *loaded;

    std::vector<std::size_t> owed;
    std::vector<std::size_t> rcpts;
    std::vector<std::size_t> unroutable;
    bool elsewhere = false;  // pending recipients with another destination
    for (std::size_t i = 0; i < m.recipients.size(); ++i) {
      const auto& r = m.recipients[i];
      if (r.state != RecipientState::pending) continue;
      const std::string d = destination_of(r.recipient.address);
      if (d.empty()) {
        if (job.destination == kLocalDestination && r.last_reply != kNoRemote) {
          unroutable.push_back(i);
        }
        continue;
      }
      if (d != job.destination) {
        elsewhere |= d != kAwaitingLookup;
        continue;
      }
      (owes_bounce(r) ? owed : rcpts).push_back(i);
    }
    if (!unroutable.empty()) {
      // Recorded once so `postern queue` can say why it waits; without a
      // courier there is nothing to retry, so it is not rescheduled.
      modify(id, [&](QueuedMessage& fresh) {
        for (const std::size_t i : unroutable) {
          fresh.recipients[i].last_reply = std::string(kNoRemote);
          obs::event("deferred", "id={} to=<{}> reason=\"{}\"", id,
                     obs::sanitize(fresh.recipients[i].recipient.address), kNoRemote);
        }
        return true;
      });
    }
    if (owed.empty() && rcpts.empty()) {
      // A domain's MX host set changed since this job was queued: its
      // recipients now belong to another destination's job.
      if (elsewhere && unroutable.empty()) schedule(m, m.next_attempt);
      return out;
    }

    auto data = std::make_shared<std::string>();
    if (!spool.read_data(id, *data)) {
      if (spool.load(id)) {
        obs::error("deferred", "id={} reason=\"cannot read the queued message\"", id);
        out.retry_at = Clock::now() + settings.retry_initial;
      }
      return out;
    }

    // First finish the bounce an earlier attempt left owed (a restart or a
    // spool error came in between), as its own report.
    if (!owed.empty()) {
      if (!bounce(m, *data, owed, true)) {
        out.retry_at = Clock::now() + settings.retry_initial;
        return out;
      }
      if (rcpts.empty()) return out;
    }
    Prepared p;
    p.message = std::move(m);
    p.data = std::move(data);
    p.rcpts = std::move(rcpts);
    p.remote = job.destination != kLocalDestination;
    p.unrecorded_hint = unrecorded_hint;
    return p;
  }

  // The second half: records what the courier said.
  JobResult finish(const Job& job, Prepared& p, std::vector<RecipientResult> results) {
    JobResult out;
    const std::string& id = job.message_id;
    const std::string_view data = *p.data;
    std::vector<std::size_t> rcpts = std::move(p.rcpts);
    const bool remote = p.remote;
    results.resize(rcpts.size(),
                   RecipientResult{Outcome::transient, "4.3.0 courier returned no result", {}});

    // An attempt cut short by stop() records what it settled; its temporary
    // failures say nothing (the peer was not given the time), so they are
    // not counted and the message stays due for the next start.
    const bool interrupted = stopping_flag.load();
    if (interrupted) {
      std::vector<std::size_t> kept_rcpts;
      std::vector<RecipientResult> kept;
      for (std::size_t k = 0; k < rcpts.size(); ++k) {
        if (results[k].outcome == Outcome::transient) continue;
        kept_rcpts.push_back(rcpts[k]);
        kept.push_back(results[k]);
      }
      rcpts = std::move(kept_rcpts);
      results = std::move(kept);
      out.verdict = Verdict::interrupted;
      out.reason = "stopping";
    } else if (remote || settings.local) {
      // The destination is dead when not one of its hosts answered: an MX
      // or smarthost, or the LMTP server behind the local destination (the
      // Maildir writer has no peer that could be down).
      bool all_unreachable = !results.empty();
      for (const auto& r : results) {
        all_unreachable &= r.outcome == Outcome::transient && r.kind == FailureKind::unreachable;
      }
      if (all_unreachable) {
        out.verdict = Verdict::unreachable;
        out.reason = results.front().reply.substr(0, 200);
      }
    }
    if (rcpts.empty()) return out;

    std::vector<std::size_t> failed_now;
    bool retry = false;
    Clock::time_point next{};
    QueuedMessage recorded;
    const bool ok = modify(id, [&](QueuedMessage& fresh) {
      apply(fresh, rcpts, results, remote ? "relay" : "mailbox", remote);
      // The next try waits for the recipient that has failed most often,
      // but not past the end of the queue lifetime, so expiry is punctual.
      int worst = 0;
      for (const std::size_t i : rcpts) {
        const auto& r = fresh.recipients[i];
        if (owes_bounce(r)) {
          failed_now.push_back(i);
        } else if (r.state == RecipientState::pending) {
          retry = true;
          worst = std::max(worst, r.attempts);
        }
      }
      if (retry) {
        const auto now = Clock::now();
        const auto deadline = fresh.arrival + settings.max_queue_lifetime;
        next = std::min(now + retry_delay(worst, settings.retry_initial, settings.retry_max),
                        std::max(deadline, now));
        // Another destination of the message may be due sooner; the
        // record keeps the earliest future time (it is what a restart
        // and `postern queue list` go by).
        fresh.next_attempt = fresh.next_attempt > now ? std::min(fresh.next_attempt, next) : next;
      }
      recorded = fresh;
      return true;
    });
    if (!ok) {
      if (!spool.load(id)) return out;  // deleted meanwhile
      // The results are not durable; trying again later may deliver twice
      // to the remote recipients that succeeded (local ones are found by
      // their file name), which beats losing track.
      out.record_failed = true;
      out.retry_at = Clock::now() + settings.retry_initial;
      return out;
    }
    if (!remote) out.recorded_local = true;
    out.message_done =
        std::none_of(recorded.recipients.begin(), recorded.recipients.end(),
                     [](const auto& r) { return r.state == RecipientState::pending; });
    if (!failed_now.empty() && !bounce(recorded, data, failed_now, false)) {
      // The failures are recorded as owed: the next attempt sends the
      // bounce (and only the bounce, for them).
      out.retry_at = Clock::now() + settings.retry_initial;
      return out;
    }
    if (retry && !interrupted) out.retry_at = next;
    return out;
  }

  // Queues one bounce for the recipients at `indexes` (all owed), then
  // records them as failed. False when either step did not work; the owed
  // bounces then stay owed for the next attempt.
  bool bounce(const QueuedMessage& m, std::string_view data,
              const std::vector<std::size_t>& indexes, bool recovering) {
    std::vector<BounceRecipient> failed;
    for (const std::size_t i : indexes) {
      const auto& owed = m.recipients[i].bounce_owed;
      if (owed) failed.push_back(BounceRecipient{i, owed->reply, owed->where});
    }
    if (failed.empty()) return true;
    // Never for the null sender (fail() does not mark those), but a queue
    // written by hand must not make a bounce to nobody.
    const std::string bounce_id =
        m.envelope.mail_from.empty() ? "none" : bouncer.send(m, data, failed, recovering);
    if (bounce_id.empty()) return false;
    obs::event("bounced", "id={} to=<{}> bounce_id={} recipients={}", m.id,
               obs::sanitize(m.envelope.mail_from), bounce_id, failed.size());
    return modify(m.id, [&](QueuedMessage& fresh) {
      for (const auto& f : failed) {
        auto& r = fresh.recipients[f.index];
        r.state = RecipientState::failed;
        r.last_reply = f.reply;
        r.bounce_owed.reset();
      }
      return true;
    });
  }

  // A recipient that failed for good: owed a bounce, or failed at once
  // when no bounce may be sent (the null sender, RFC 5321 §4.5.5; or
  // NOTIFY without FAILURE, RFC 3461 §4.1).
  void fail(QueuedMessage& m, spool::RecipientStatus& r, const std::string& reply,
            const std::string& where) {
    const std::string to = obs::sanitize(r.recipient.address);
    const char* no_bounce = m.envelope.mail_from.empty()                ? "null sender"
                            : !wants_failure_report(r.recipient.notify) ? "NOTIFY"
                                                                        : nullptr;
    if (no_bounce) {
      r.state = RecipientState::failed;
      r.last_reply = reply.substr(0, kMaxReply);
      obs::warning("failed", "id={} to=<{}> reply=\"{}\" bounce=none reason=\"{}{}\"", m.id, to,
                   obs::sanitize(reply), no_bounce,
                   m.envelope.mail_from.empty() ? "" : "=" + obs::sanitize(r.recipient.notify));
      return;
    }
    r.last_reply = reply.substr(0, kMaxReply);
    r.bounce_owed = spool::OwedBounce{r.last_reply, where};
    obs::warning("failed", "id={} to=<{}> reply=\"{}\" bounce=<{}>", m.id, to, obs::sanitize(reply),
                 obs::sanitize(m.envelope.mail_from));
  }

  void apply(QueuedMessage& m, const std::vector<std::size_t>& indexes,
             const std::vector<RecipientResult>& results, std::string_view where_key, bool remote) {
    const auto now = Clock::now();
    const bool expired = now - m.arrival >= settings.max_queue_lifetime;
    for (std::size_t k = 0; k < indexes.size(); ++k) {
      auto& r = m.recipients[indexes[k]];
      // Settled meanwhile (an operator change cannot overlap a job, but a
      // record written by hand may): never undo a final state.
      if (r.state != RecipientState::pending) continue;
      const RecipientResult& result = results[k];
      ++r.attempts;
      const std::string to = obs::sanitize(r.recipient.address);
      const std::string where = remote ? result.where : std::string();
      switch (result.outcome) {
        case Outcome::delivered:
          r.last_reply = result.reply.substr(0, kMaxReply);
          r.state = RecipientState::delivered;
          obs::event("delivered", "id={} to=<{}> {}={} reply=\"{}\"", m.id, to, where_key,
                     obs::sanitize(result.where), obs::sanitize(result.reply));
          metrics::delivery_result("delivered", remote);
          metrics::delivery_latency(remote, std::chrono::duration<double>(now - m.arrival).count());
          break;
        case Outcome::transient:
          if (expired) {
            // RFC 5321 §4.5.4.1: after the queue lifetime the message is
            // returned; RFC 3463 4.4.7 says why.
            fail(m, r, expired_reply(r.attempts, result.reply), where);
            metrics::delivery_result("bounced", remote);
            break;
          }
          r.last_reply = result.reply.substr(0, kMaxReply);
          obs::event("deferred", "id={} to=<{}> attempts={} reason=\"{}\"", m.id, to, r.attempts,
                     obs::sanitize(result.reply));
          metrics::delivery_result("deferred", remote);
          break;
        case Outcome::permanent:
          fail(m, r, result.reply, where);
          metrics::delivery_result("bounced", remote);
          break;
      }
    }
  }

  bool record(const QueuedMessage& m) {
    const std::error_code ec = spool.update(m);
    if (ec) {
      obs::error("spool", "id={} error=\"cannot record delivery results: {}\"", m.id, ec.message());
      return false;
    }
    return true;
  }

  // ---- operator changes ------------------------------------------------------

  enum class Change { hold, release, remove };

  std::error_code change(const std::string& id, Change what) {
    std::vector<std::pair<Job, Clock::time_point>> was_queued;
    {
      std::unique_lock lock(mutex);
      // One change of a message at a time, and none while a job of it runs.
      change_cv.wait(lock, [&] { return stopping || (!core.busy(id) && !claimed.contains(id)); });
      if (stopping) return std::make_error_code(std::errc::operation_canceled);
      was_queued = core.remove_message(id);
      claimed.insert(id);
    }
    std::error_code ec;
    std::optional<QueuedMessage> m;
    {
      std::lock_guard message_lock(lock_for(id));
      m = spool.load(id);
      if (!m) {
        ec = std::make_error_code(std::errc::no_such_file_or_directory);
      } else if (what == Change::remove) {
        ec = spool.remove(id);
      } else {
        m->held = what == Change::hold;
        if (what == Change::release) m->next_attempt = Clock::now();
        ec = spool.update(*m);
      }
    }
    std::lock_guard lock(mutex);
    claimed.erase(id);
    std::map<Job, Clock::time_point, JobLess> back;
    for (auto it = parked.begin(); it != parked.end();) {
      if (it->first.message_id == id) {
        back.emplace(it->first, it->second);
        it = parked.erase(it);
      } else {
        ++it;
      }
    }
    if (!ec && what == Change::release) {
      schedule_locked(*m, m->next_attempt);
    } else if (ec) {
      for (const auto& [job, due] : was_queued) core.add(job, due);  // it keeps its turn
    }
    if (!ec && what == Change::hold) back.clear();
    if (what != Change::remove || ec) {
      for (const auto& [job, due] : back) core.add(job, due);
    }
    cv.notify_all();
    change_cv.notify_all();
    return ec;
  }

  spool::Spool& spool;
  RunnerSettings settings;
  LocalCourier local;
  Bouncer bouncer;

  mutable std::mutex mutex;
  std::condition_variable cv;         // workers: a job may be due, a result came back
  std::condition_variable change_cv;  // operator changes: a job ended, a change ended
  Scheduler core;
  bool stopping = false;
  std::atomic<bool> stopping_flag{false};
  // Messages whose local deliveries may have happened without the queue
  // knowing: resumed at start-up, or a record that failed.
  std::set<std::string> unrecorded;
  // Operator changes in progress, and jobs added for them meanwhile.
  std::set<std::string> claimed;
  std::map<Job, Clock::time_point, JobLess> parked;
  std::array<std::mutex, kMessageLocks> message_locks;
  std::vector<std::thread> workers;
  // Jobs handed to an asynchronous courier and not yet recorded, and the
  // answers it posted back for the workers to record.
  std::size_t async_in_flight = 0;
  std::deque<Answered> answered;
  // MX host sets (under mx_mutex, which is never held while taking `mutex`),
  // and the lookups asked for (under `mutex`): messages waiting for their
  // domain's first answer, by domain, with the time they are due.
  mutable std::mutex mx_mutex;
  MxDestinations mx;
  std::condition_variable lookup_cv;
  std::deque<std::string> lookup_queue;
  std::set<std::string> lookups_pending;
  std::map<std::string, std::map<std::string, Clock::time_point>> awaiting;
  std::vector<std::thread> lookup_threads;
  bool started = false;
  std::shared_ptr<Bridge<Impl>> bridge = std::make_shared<Bridge<Impl>>();
};

QueueRunner::QueueRunner(spool::Spool& spool, RunnerSettings settings)
    : impl_(std::make_unique<Impl>(spool, std::move(settings))) {}

QueueRunner::~QueueRunner() {
  stop();
}

void QueueRunner::start() {
  Impl& s = *impl_;
  if (s.started) return;
  s.started = true;
  // Subscribe first so that nothing committed between the listing and the
  // subscription is missed (a message seen twice is scheduled once).
  s.bridge->target = &s;
  s.spool.on_committed([bridge = s.bridge](const QueuedMessage& m) {
    std::lock_guard lock(bridge->mutex);
    if (bridge->target) bridge->target->schedule(m, m.next_attempt);
  });
  std::size_t resumed = 0;
  {
    std::lock_guard lock(s.mutex);
    for (const QueuedMessage& m : s.spool.list()) {
      // A delivery of it may have happened just before a crash, unrecorded.
      s.unrecorded.insert(m.id);
      if (m.held) continue;
      s.schedule_locked(m, m.next_attempt);
      ++resumed;
    }
  }
  const SchedulerLimits& l = s.settings.limits;
  // A blocking remote courier holds a thread per delivery in flight; an
  // asynchronous one needs only a couple to prepare jobs and record results.
  const bool remote_async = s.settings.remote && s.settings.remote->asynchronous();
  const std::size_t remote_threads = remote_async ? 2 : std::max<std::size_t>(1, l.max_connections);
  const std::size_t threads = remote_threads + std::max<std::size_t>(1, l.local_concurrency);
  obs::event("queue", "resumed={} max_connections={} per_destination={} local={} threads={}{}",
             resumed, l.max_connections, l.max_per_destination, l.local_concurrency, threads,
             remote_async ? " remote=async" : "");
  for (std::size_t i = 0; i < threads; ++i) {
    s.workers.emplace_back([this] { impl_->worker(); });
  }
  if (s.settings.lookup_mx && !s.settings.smarthost) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, s.settings.lookup_threads); ++i) {
      s.lookup_threads.emplace_back([this] { impl_->lookup_worker(); });
    }
  }
}

void QueueRunner::stop() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.mutex);
    s.stopping = true;
    s.stopping_flag = true;
    s.cv.notify_all();
    s.change_cv.notify_all();
  }
  if (s.settings.remote) s.settings.remote->cancel();
  if (s.settings.local) s.settings.local->cancel();
  s.lookup_cv.notify_all();
  for (std::thread& t : s.workers) t.join();
  s.workers.clear();
  // A lookup under way ends within the resolver's timeout.
  for (std::thread& t : s.lookup_threads) t.join();
  s.lookup_threads.clear();
  // The spool callback must not reach a runner that is going away.
  std::lock_guard lock(s.bridge->mutex);
  s.bridge->target = nullptr;
}

void QueueRunner::wake(const std::string& queue_id) {
  if (std::optional<QueuedMessage> m = impl_->spool.load(queue_id); m && !m->held) {
    impl_->schedule(*m, Clock::now());
  }
}

std::size_t QueueRunner::wake_all() {
  std::size_t n = 0;
  const auto now = Clock::now();
  for (const QueuedMessage& m : impl_->spool.list()) {
    if (m.held) continue;
    impl_->schedule(m, now);
    ++n;
  }
  return n;
}

std::error_code QueueRunner::hold(const std::string& queue_id) {
  return impl_->change(queue_id, Impl::Change::hold);
}

std::error_code QueueRunner::release(const std::string& queue_id) {
  return impl_->change(queue_id, Impl::Change::release);
}

std::error_code QueueRunner::remove(const std::string& queue_id) {
  return impl_->change(queue_id, Impl::Change::remove);
}

std::vector<DestinationStatus> QueueRunner::destinations() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->core.status(Clock::now());
}

}  // namespace postern::delivery
