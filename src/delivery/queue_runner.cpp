#include "delivery/queue_runner.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "delivery/bouncer.hpp"
#include "delivery/local_courier.hpp"
#include "obs/log.hpp"

namespace postern::delivery {
namespace {

using Clock = std::chrono::system_clock;
using spool::QueuedMessage;
using spool::RecipientState;

constexpr std::string_view kNoRemote = "remote delivery is not available yet";
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

std::string domain_of(std::string_view address) {
  const std::size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : lowercase(address.substr(at + 1));
}

// Which messages are due when. Shared with the spool's on_committed
// callback, which may outlive the runner, hence held by shared_ptr.
class Schedule {
 public:
  void add(const std::string& id, Clock::time_point when) {
    std::lock_guard lock(mutex_);
    const auto it = due_.find(id);
    if (it != due_.end()) {
      if (it->second <= when) return;
      order_.erase({it->second, id});
    }
    due_[id] = when;
    order_.insert({when, id});
    // All: an operator change waiting in claim() shares the variable.
    cv_.notify_all();
  }

  // Takes `id` away from the workers for an operator change: waits while a
  // worker has it, then marks it busy and unschedules it (`was_due` says
  // when it had been due, if it was scheduled). False once stopping.
  bool claim(const std::string& id, std::optional<Clock::time_point>& was_due) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return stopping_ || !busy_.contains(id); });
    if (stopping_) return false;
    was_due.reset();
    const auto it = due_.find(id);
    if (it != due_.end()) {
      was_due = it->second;
      order_.erase({it->second, id});
      due_.erase(it);
    }
    busy_.insert(id);
    return true;
  }

  // Blocks until a message is due (returns its id) or the schedule stops
  // (returns empty). A message is never handed to two workers at once.
  std::string next() {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (stopping_) return {};
      auto it = std::find_if(order_.begin(), order_.end(),
                             [this](const auto& e) { return !busy_.contains(e.second); });
      if (it == order_.end()) {
        cv_.wait(lock);
        continue;
      }
      if (it->first > Clock::now()) {
        // A copy: the entry may be erased by another thread while we wait.
        const Clock::time_point wake = it->first;
        cv_.wait_until(lock, wake);
        continue;
      }
      std::string id = it->second;
      order_.erase(it);
      due_.erase(id);
      busy_.insert(id);
      return id;
    }
  }

  void done(const std::string& id) {
    std::lock_guard lock(mutex_);
    busy_.erase(id);
    cv_.notify_all();
  }

  void stop() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, Clock::time_point> due_;
  std::set<std::pair<Clock::time_point, std::string>> order_;
  std::set<std::string> busy_;
  bool stopping_ = false;
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
        bouncer(spool, settings.hostname) {
    for (std::string& d : settings.local_domains) d = lowercase(d);
  }

  bool is_local(const std::string& address) const {
    const std::string domain = domain_of(address);
    return std::find(settings.local_domains.begin(), settings.local_domains.end(), domain) !=
           settings.local_domains.end();
  }

  void worker() {
    for (;;) {
      const std::string id = schedule->next();
      if (id.empty()) return;
      attempt(id);
      schedule->done(id);
    }
  }

  // A recipient that failed in an earlier attempt whose bounce is not yet
  // known to be queued (see bouncer.hpp).
  static bool owes_bounce(const spool::RecipientStatus& r) {
    return r.state == RecipientState::pending && owed_bounce(r.last_reply).has_value();
  }

  // One delivery attempt for every pending recipient of one message.
  void attempt(const std::string& id) {
    std::optional<QueuedMessage> loaded = spool.load(id);
    if (!loaded || loaded->held) return;  // gone, or held until released
    // The schedule decides when: a message woken early (flush) goes now.
    QueuedMessage& m = *loaded;
    const auto now = Clock::now();

    std::vector<std::size_t> owed;
    std::vector<std::size_t> local_rcpts;
    std::vector<std::size_t> remote_rcpts;
    bool changed = false;
    for (std::size_t i = 0; i < m.recipients.size(); ++i) {
      auto& r = m.recipients[i];
      if (r.state != RecipientState::pending) continue;
      if (owes_bounce(r)) {
        owed.push_back(i);
      } else if (is_local(r.recipient.address)) {
        local_rcpts.push_back(i);
      } else if (settings.remote) {
        remote_rcpts.push_back(i);
      } else if (r.last_reply != kNoRemote) {
        // Recorded once so `postern queue` can say why it waits; without a
        // courier there is nothing to retry, so it is not rescheduled.
        r.last_reply = kNoRemote;
        changed = true;
        obs::event("deferred", "id={} to=<{}> reason=\"{}\"", id,
                   obs::sanitize(r.recipient.address), kNoRemote);
      }
    }
    if (owed.empty() && local_rcpts.empty() && remote_rcpts.empty()) {
      if (changed) record(m);
      return;
    }

    std::string data;
    if (!spool.read_data(id, data)) {
      if (spool.load(id)) {
        obs::error("deferred", "id={} reason=\"cannot read the queued message\"", id);
        schedule->add(id, now + settings.retry_initial);
      }
      return;
    }

    // First finish the bounce an earlier attempt left owed (a restart or a
    // spool error came in between), as its own report.
    if (!owed.empty()) {
      if (!bounce(m, data, owed, true)) {
        schedule->add(id, Clock::now() + settings.retry_initial);
        return;
      }
      if (local_rcpts.empty() && remote_rcpts.empty()) return;
    }

    Courier& local_courier = settings.local ? *settings.local : local;
    apply(m, local_rcpts, local_courier.deliver(m, data, local_rcpts), "mailbox", false);
    if (!remote_rcpts.empty()) {
      apply(m, remote_rcpts, settings.remote->deliver(m, data, remote_rcpts), "relay", true);
    }

    // The next try waits for the recipient that has failed most often, but
    // not past the end of the queue lifetime, so expiry is punctual.
    int worst = 0;
    bool retry = false;
    std::vector<std::size_t> failed_now;
    for (const auto* group : {&local_rcpts, &remote_rcpts}) {
      for (const std::size_t i : *group) {
        const auto& r = m.recipients[i];
        if (owes_bounce(r)) {
          failed_now.push_back(i);
        } else if (r.state == RecipientState::pending) {
          retry = true;
          worst = std::max(worst, r.attempts);
        }
      }
    }
    if (retry) {
      const auto deadline = m.arrival + settings.max_queue_lifetime;
      m.next_attempt =
          std::min(Clock::now() + retry_delay(worst, settings.retry_initial, settings.retry_max),
                   std::max(deadline, Clock::now()));
    }
    if (!record(m)) {
      // The results are not durable; trying again later may deliver twice
      // to the recipients that succeeded, which beats losing track.
      schedule->add(id, Clock::now() + settings.retry_initial);
      return;
    }
    if (!failed_now.empty() && !bounce(m, data, failed_now, false)) {
      // The failures are recorded as owed: the next attempt sends the
      // bounce (and only the bounce, for them).
      schedule->add(id, Clock::now() + settings.retry_initial);
      return;
    }
    if (retry) schedule->add(id, m.next_attempt);
  }

  // Queues one bounce for the recipients at `indexes` (all owed), then
  // records them as failed. False when either step did not work; the owed
  // marks then stay for the next attempt.
  bool bounce(QueuedMessage& m, std::string_view data, const std::vector<std::size_t>& indexes,
              bool recovering) {
    std::vector<BounceRecipient> failed;
    for (const std::size_t i : indexes) {
      const auto owed = owed_bounce(m.recipients[i].last_reply);
      failed.push_back(BounceRecipient{i, owed->reply, owed->where});
    }
    // Never for the null sender (fail() does not mark those), but a queue
    // written by hand must not make a bounce to nobody.
    const std::string bounce_id =
        m.envelope.mail_from.empty() ? "none" : bouncer.send(m, data, failed, recovering);
    if (bounce_id.empty()) return false;
    for (const auto& f : failed) {
      auto& r = m.recipients[f.index];
      r.state = RecipientState::failed;
      r.last_reply = f.reply;
    }
    obs::event("bounced", "id={} to=<{}> bounce_id={} recipients={}", m.id,
               obs::sanitize(m.envelope.mail_from), bounce_id, failed.size());
    return record(m);
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
    r.last_reply = mark_bounce_owed(reply, where).substr(0, kMaxReply);
    obs::warning("failed", "id={} to=<{}> reply=\"{}\" bounce=<{}>", m.id, to, obs::sanitize(reply),
                 obs::sanitize(m.envelope.mail_from));
  }

  void apply(QueuedMessage& m, const std::vector<std::size_t>& indexes,
             const std::vector<RecipientResult>& results, std::string_view where_key, bool remote) {
    const auto now = Clock::now();
    const bool expired = now - m.arrival >= settings.max_queue_lifetime;
    for (std::size_t k = 0; k < indexes.size(); ++k) {
      auto& r = m.recipients[indexes[k]];
      RecipientResult result;
      if (k < results.size()) {
        result = results[k];
      } else {
        result.reply = "4.3.0 courier returned no result";
      }
      ++r.attempts;
      const std::string to = obs::sanitize(r.recipient.address);
      const std::string where = remote ? result.where : std::string();
      switch (result.outcome) {
        case Outcome::delivered:
          r.last_reply = result.reply.substr(0, kMaxReply);
          r.state = RecipientState::delivered;
          obs::event("delivered", "id={} to=<{}> {}={} reply=\"{}\"", m.id, to, where_key,
                     obs::sanitize(result.where), obs::sanitize(result.reply));
          break;
        case Outcome::transient:
          if (expired) {
            // RFC 5321 §4.5.4.1: after the queue lifetime the message is
            // returned; RFC 3463 4.4.7 says why.
            fail(m, r, expired_reply(r.attempts, result.reply), where);
            break;
          }
          r.last_reply = result.reply.substr(0, kMaxReply);
          obs::event("deferred", "id={} to=<{}> attempts={} reason=\"{}\"", m.id, to, r.attempts,
                     obs::sanitize(result.reply));
          break;
        case Outcome::permanent:
          fail(m, r, result.reply, where);
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

  enum class Change { hold, release, remove };

  std::error_code change(const std::string& id, Change what) {
    std::optional<Clock::time_point> was_due;
    if (!schedule->claim(id, was_due)) return std::make_error_code(std::errc::operation_canceled);
    std::error_code ec;
    std::optional<QueuedMessage> m = spool.load(id);
    if (!m) {
      ec = std::make_error_code(std::errc::no_such_file_or_directory);
    } else if (what == Change::remove) {
      ec = spool.remove(id);
    } else {
      m->held = what == Change::hold;
      if (what == Change::release) m->next_attempt = Clock::now();
      ec = spool.update(*m);
    }
    schedule->done(id);
    if (!ec && what == Change::release) {
      schedule->add(id, m->next_attempt);
    } else if (ec && was_due) {
      schedule->add(id, *was_due);  // nothing changed: it keeps its turn
    }
    return ec;
  }

  spool::Spool& spool;
  RunnerSettings settings;
  LocalCourier local;
  Bouncer bouncer;
  std::shared_ptr<Schedule> schedule = std::make_shared<Schedule>();
  std::vector<std::thread> workers;
  bool started = false;
};

QueueRunner::QueueRunner(spool::Spool& spool, RunnerSettings settings)
    : impl_(std::make_unique<Impl>(spool, std::move(settings))) {}

QueueRunner::~QueueRunner() {
  stop();
}

void QueueRunner::start() {
  if (impl_->started) return;
  impl_->started = true;
  // Subscribe first so that nothing committed between the listing and the
  // subscription is missed (a message seen twice is scheduled once).
  std::weak_ptr<Schedule> weak = impl_->schedule;
  impl_->spool.on_committed([weak](const QueuedMessage& m) {
    if (auto s = weak.lock()) s->add(m.id, m.next_attempt);
  });
  std::size_t resumed = 0;
  for (const QueuedMessage& m : impl_->spool.list()) {
    if (m.held) continue;
    impl_->schedule->add(m.id, m.next_attempt);
    ++resumed;
  }
  obs::event("queue", "resumed={} workers={}", resumed,
             std::max<std::size_t>(1, impl_->settings.workers));
  for (std::size_t i = 0; i < std::max<std::size_t>(1, impl_->settings.workers); ++i) {
    impl_->workers.emplace_back([this] { impl_->worker(); });
  }
}

void QueueRunner::stop() {
  impl_->schedule->stop();
  for (std::thread& t : impl_->workers) t.join();
  impl_->workers.clear();
}

void QueueRunner::wake(const std::string& queue_id) {
  impl_->schedule->add(queue_id, Clock::now());
}

std::size_t QueueRunner::wake_all() {
  std::size_t n = 0;
  const auto now = Clock::now();
  for (const QueuedMessage& m : impl_->spool.list()) {
    if (m.held) continue;
    impl_->schedule->add(m.id, now);
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

}  // namespace postern::delivery
