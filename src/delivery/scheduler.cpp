#include "delivery/scheduler.hpp"

#include <algorithm>
#include <cassert>

namespace postern::delivery {

Scheduler::Scheduler(SchedulerLimits limits) : limits_(limits) {
  limits_.max_connections = std::max<std::size_t>(1, limits_.max_connections);
  limits_.max_per_destination = std::max<std::size_t>(1, limits_.max_per_destination);
  limits_.local_concurrency = std::max<std::size_t>(1, limits_.local_concurrency);
}

std::size_t Scheduler::full_limit(const std::string& destination) const {
  return is_local(destination) ? limits_.local_concurrency
                               : std::min(limits_.max_per_destination, limits_.max_connections);
}

std::chrono::seconds Scheduler::backoff(int failures) const {
  std::chrono::seconds d = limits_.dead_backoff_initial;
  for (int i = 1; i < failures && d < limits_.dead_backoff_max; ++i) d *= 2;
  return std::min(d, limits_.dead_backoff_max);
}

void Scheduler::add(const Job& job, Time due) {
  auto [it, created] = destinations_.try_emplace(job.destination);
  Destination& d = it->second;
  if (created) d.limit = full_limit(job.destination);
  if (d.running.contains(job.message_id)) {
    auto [a, fresh] = d.again.try_emplace(job.message_id, due);
    if (!fresh) a->second = std::min(a->second, due);
    return;
  }
  const auto known = d.due.find(job.message_id);
  if (known != d.due.end()) {
    if (known->second <= due) return;
    d.queue.erase({known->second, job.message_id});
    known->second = due;
  } else {
    d.due.emplace(job.message_id, due);
    ++queued_jobs_;
  }
  d.queue.insert({due, job.message_id});
}

bool Scheduler::has_slot(const std::string& name, const Destination& d, Time now) const {
  if (d.running.size() >= d.limit) return false;
  if (d.dead && now < d.retry_at) return false;
  if (is_local(name)) return local_in_flight_ < limits_.local_concurrency;
  return remote_in_flight_ < limits_.max_connections;
}

std::optional<Job> Scheduler::next(Time now) {
  if (destinations_.empty()) return std::nullopt;
  // Round robin: start looking after the destination that started last.
  auto start = destinations_.upper_bound(last_started_);
  for (std::size_t n = 0; n < destinations_.size(); ++n, ++start) {
    if (start == destinations_.end()) start = destinations_.begin();
    const std::string& name = start->first;
    Destination& d = start->second;
    if (!has_slot(name, d, now)) continue;
    // The earliest due message of this destination that is not already in
    // flight here (a message is queued at most once per destination, and a
    // running one is parked in `again`, so the head is never running).
    if (d.queue.empty() || d.queue.begin()->first > now) continue;
    const std::string id = d.queue.begin()->second;
    d.queue.erase(d.queue.begin());
    d.due.erase(id);
    --queued_jobs_;
    d.running.insert(id);
    ++busy_messages_[id];
    ++(is_local(name) ? local_in_flight_ : remote_in_flight_);
    last_started_ = name;
    return Job{id, name};
  }
  return std::nullopt;
}

Scheduler::Time Scheduler::wake_time(Time now) const {
  Time wake = Time::max();
  for (const auto& [name, d] : destinations_) {
    if (d.queue.empty() || d.running.size() >= d.limit) continue;
    // A global bound that is full frees up only when a job finishes, and
    // finished() is followed by a fresh look anyway.
    if (is_local(name) ? local_in_flight_ >= limits_.local_concurrency
                       : remote_in_flight_ >= limits_.max_connections) {
      continue;
    }
    Time t = d.queue.begin()->first;
    if (d.dead) t = std::max(t, d.retry_at);
    wake = std::min(wake, std::max(t, now));
  }
  return wake;
}

std::vector<DestinationEvent> Scheduler::finished(const Job& job, Verdict verdict,
                                                  const std::string& reason, Time now) {
  std::vector<DestinationEvent> events;
  const auto it = destinations_.find(job.destination);
  assert(it != destinations_.end() && it->second.running.contains(job.message_id));
  if (it == destinations_.end() || !it->second.running.contains(job.message_id)) return events;
  Destination& d = it->second;
  d.running.erase(job.message_id);
  --(is_local(job.destination) ? local_in_flight_ : remote_in_flight_);
  if (auto b = busy_messages_.find(job.message_id); b != busy_messages_.end() && --b->second == 0) {
    busy_messages_.erase(b);
  }

  // The local destination too: the queue runner reports it unreachable
  // only when its courier is an LMTP client whose server does not answer
  // (the Maildir writer has no peer that could be down).
  {
    const std::size_t full = full_limit(job.destination);
    if (verdict == Verdict::unreachable) {
      const bool was_dead = d.dead;
      d.dead = true;
      d.limit = 1;
      d.reason = reason;
      // Jobs that were already in flight when it died report in one after
      // another; only the first one (or a failed probe after the backoff)
      // moves the retry time.
      if (!was_dead || now >= d.retry_at) {
        ++d.failures;
        d.retry_at = now + backoff(d.failures);
        events.push_back(
            {was_dead ? DestinationEvent::Kind::still_down : DestinationEvent::Kind::down,
             job.destination, reason, d.retry_at});
      }
    } else if (verdict == Verdict::answered) {
      if (d.dead) events.push_back({DestinationEvent::Kind::up, job.destination, {}, now});
      d.dead = false;
      d.failures = 0;
      d.reason.clear();
      // Back to full concurrency one slot per success.
      d.limit = std::min(full, d.limit + 1);
    }
  }

  if (auto a = d.again.find(job.message_id); a != d.again.end()) {
    const Time due = a->second;
    d.again.erase(a);
    add(job, due);
  }
  drop_if_idle(it);
  return events;
}

void Scheduler::drop_if_idle(std::map<std::string, Destination>::iterator it) {
  const Destination& d = it->second;
  // A dead destination, or one still climbing back to full concurrency,
  // is remembered even with nothing queued: new mail for it must wait too.
  if (d.queue.empty() && d.running.empty() && d.again.empty() && !d.dead &&
      d.limit == full_limit(it->first)) {
    destinations_.erase(it);
  }
}

bool Scheduler::busy(const std::string& message_id) const {
  return busy_messages_.contains(message_id);
}

std::vector<std::pair<Job, Scheduler::Time>> Scheduler::remove_message(
    const std::string& message_id) {
  std::vector<std::pair<Job, Time>> removed;
  for (auto it = destinations_.begin(); it != destinations_.end();) {
    Destination& d = it->second;
    if (const auto due = d.due.find(message_id); due != d.due.end()) {
      removed.push_back({Job{message_id, it->first}, due->second});
      d.queue.erase({due->second, message_id});
      d.due.erase(due);
      --queued_jobs_;
    }
    if (const auto a = d.again.find(message_id); a != d.again.end()) {
      removed.push_back({Job{message_id, it->first}, a->second});
      d.again.erase(a);
    }
    const auto here = it++;
    drop_if_idle(here);
  }
  return removed;
}

std::vector<DestinationStatus> Scheduler::status(Time now) const {
  std::vector<DestinationStatus> out;
  for (const auto& [name, d] : destinations_) {
    DestinationStatus s;
    s.destination = name;
    s.queued = d.queue.size() + d.again.size();
    s.in_flight = d.running.size();
    s.limit = d.limit;
    s.dead = d.dead;
    s.reason = d.reason;
    s.retry_at = d.dead ? d.retry_at : now;
    s.next_due = d.queue.empty() ? Time::max() : d.queue.begin()->first;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace postern::delivery
