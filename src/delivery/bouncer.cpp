#include "delivery/bouncer.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>

#include "core/text.hpp"
#include "delivery/dsn.hpp"
#include "obs/log.hpp"

namespace postern::delivery {
namespace {

constexpr std::string_view kExpired = "4.4.7 message expired in the queue after ";

bool eight_bit(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

// FNV-1a: a stable name for "these recipients after these attempts", so a
// bounce re-sent after a restart has the same Message-ID as the first.
std::string failure_key(const spool::QueuedMessage& m, const std::vector<BounceRecipient>& failed) {
  std::uint64_t h = 14695981039346656037ULL;
  auto mix = [&h](std::string_view s) {
    for (const char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
  };
  for (const auto& f : failed) {
    mix(std::to_string(f.index));
    mix(":");
    mix(std::to_string(m.recipients[f.index].attempts));
    mix(";");
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

bool wants_failure_report(std::string_view notify) {
  if (notify.empty()) return true;
  const std::string n = ascii_upper(notify);
  std::size_t start = 0;
  while (start <= n.size()) {
    std::size_t end = n.find(',', start);
    if (end == std::string::npos) end = n.size();
    std::string_view word = std::string_view(n).substr(start, end - start);
    while (!word.empty() && word.front() == ' ') word.remove_prefix(1);
    while (!word.empty() && word.back() == ' ') word.remove_suffix(1);
    if (word == "FAILURE") return true;
    start = end + 1;
  }
  return false;
}

std::string expired_reply(int attempts, std::string_view last_error) {
  return std::string(kExpired) + std::to_string(attempts) +
         (attempts == 1 ? " attempt" : " attempts") + "; last error: " + std::string(last_error);
}

bool is_expired_reply(std::string_view reply) {
  return reply.starts_with(kExpired);
}

std::string Bouncer::send(const spool::QueuedMessage& m, std::string_view data,
                          const std::vector<BounceRecipient>& failed, bool look_for_earlier) {
  const std::string& sender = m.envelope.mail_from;
  DsnRequest q;
  q.reporting_mta = hostname_;
  q.sender = sender;
  q.queue_id = m.id;
  q.envid = m.envelope.dsn_envid;
  q.ret = m.envelope.dsn_ret;
  q.arrival = m.arrival;
  q.now = std::chrono::system_clock::now();
  q.message_id = "<" + m.id + "." + failure_key(m, failed) + ".bounce@" + hostname_ + ">";
  q.original = data;
  for (const auto& f : failed) {
    const auto& r = m.recipients[f.index];
    DsnRecipient d;
    d.address = r.recipient.address;
    d.orcpt = r.recipient.orcpt;
    d.reply = f.reply;
    d.remote_mta = f.where;
    d.expired = is_expired_reply(f.reply);
    d.attempts = r.attempts;
    d.last_attempt = q.now;
    q.recipients.push_back(std::move(d));
  }

  if (look_for_earlier) {
    std::string earlier = find_queued(sender, q.message_id);
    if (!earlier.empty()) return earlier;
  }

  Dsn dsn = build_dsn(q);
  Envelope e;
  e.mail_from = "";  // RFC 5321 §4.5.5: a bounce has the null reverse-path
  e.recipients.push_back(Recipient{sender, {}, {}});
  e.helo = hostname_;
  e.eight_bit = dsn.eight_bit;
  e.smtputf8 = m.envelope.smtputf8 || eight_bit(sender);

  std::promise<spool::SubmitResult> promise;
  auto future = promise.get_future();
  spool_.submit(std::move(e), std::move(dsn.data),
                [&promise](spool::SubmitResult r) { promise.set_value(std::move(r)); });
  const spool::SubmitResult result = future.get();
  if (result.error) {
    obs::error("bounce", "id={} to=<{}> error=\"cannot queue the bounce: {}\"", m.id,
               obs::sanitize(sender), result.error.message());
    return {};
  }
  return result.queue_id;
}

std::string Bouncer::find_queued(const std::string& sender, const std::string& message_id) {
  const std::string needle = "\r\nMessage-ID: " + message_id + "\r\n";
  for (const spool::QueuedMessage& q : spool_.list()) {
    if (!q.envelope.mail_from.empty() || q.recipients.size() != 1 ||
        q.recipients[0].recipient.address != sender) {
      continue;
    }
    std::string text;
    if (spool_.read_data(q.id, text) && text.find(needle) != std::string::npos) return q.id;
  }
  return {};
}

}  // namespace postern::delivery
