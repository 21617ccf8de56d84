#include "limits/user_limits.hpp"

#include <fmt/format.h>

namespace postern::limits {

std::string_view to_string(UserLimit limit) {
  return limit == UserLimit::messages ? "user_messages" : "user_recipients";
}

UserRates RateLimits::for_user(std::string_view user) const {
  UserRates r = defaults;
  auto it = overrides.find(user);
  if (it == overrides.end()) return r;
  if (it->second.messages) r.messages = *it->second.messages;
  if (it->second.recipients) r.recipients = *it->second.recipients;
  return r;
}

bool RateLimits::no_user_limits() const {
  if (!defaults.messages.empty() || !defaults.recipients.empty()) return false;
  for (const auto& [user, o] : overrides) {
    if ((o.messages && !o.messages->empty()) || (o.recipients && !o.recipients->empty())) {
      return false;
    }
  }
  return true;
}

Request user_request(UserLimit limit, std::string_view user, const std::vector<Rate>& rates) {
  Request r;
  r.op = Op::take;
  r.amount = 1;
  const std::string_view kind = limit == UserLimit::messages ? "msg" : "rcpt";
  for (const Rate& rate : rates) {
    r.counters.push_back({fmt::format("{}:{}:{}", kind, rate.window.count(), user), rate});
  }
  return r;
}

UserVerdict judge(const std::vector<Rate>& rates, const Outcome& outcome) {
  UserVerdict v;
  if (outcome.allowed) return v;
  v.allowed = false;
  // The limit that holds the client back longest is the one to name.
  for (std::size_t i = 0; i < rates.size() && i < outcome.counters.size(); ++i) {
    const auto wait = outcome.counters[i].retry_after;
    if (wait.count() <= 0) continue;
    const auto secs = std::chrono::ceil<std::chrono::seconds>(wait);
    if (secs > v.retry_after) {
      v.retry_after = secs;
      v.limit = rates[i];
    }
  }
  if (v.retry_after.count() < 1) v.retry_after = std::chrono::seconds(1);
  if (v.limit.count == 0 && !rates.empty()) v.limit = rates.front();
  return v;
}

}  // namespace postern::limits
