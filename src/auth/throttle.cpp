#include "auth/throttle.hpp"

#include <algorithm>

namespace postern::auth {
namespace {

// A delay longer than this only ties up the client's connection; the
// lockout does the rest.
constexpr std::chrono::milliseconds kMaxDelay{5000};

}  // namespace

AuthThrottle::AuthThrottle(ThrottlePolicy policy) : policy_(policy) {}

AuthThrottle::Verdict AuthThrottle::verdict_for(const Entry& e, Clock::time_point now) const {
  Verdict v;
  if (now < e.locked_until) {
    v.refused = true;
    return v;
  }
  if (now - e.first_failure > policy_.window) return v;  // stale entry
  if (e.failures >= policy_.free_failures) {
    const auto extra = static_cast<long>(e.failures - policy_.free_failures + 1);
    v.delay = std::min(kMaxDelay, policy_.delay_step * extra);
  }
  return v;
}

AuthThrottle::Verdict AuthThrottle::check(std::string_view ip, std::string_view user,
                                          Clock::time_point now) {
  std::lock_guard lock(mu_);
  Verdict v;
  for (auto* map : {&by_ip_, &by_user_}) {
    const std::string key(map == &by_ip_ ? ip : user);
    auto it = map->find(key);
    if (it == map->end()) continue;
    const Verdict one = verdict_for(it->second, now);
    v.refused = v.refused || one.refused;
    v.delay = std::max(v.delay, one.delay);
  }
  return v;
}

void AuthThrottle::bump(Entry& e, Clock::time_point now) {
  if (e.failures == 0 || now - e.first_failure > policy_.window) {
    e.failures = 0;
    e.first_failure = now;
  }
  ++e.failures;
  if (e.failures >= policy_.lock_after) e.locked_until = now + policy_.lockout;
}

void AuthThrottle::record_failure(std::string_view ip, std::string_view user,
                                  Clock::time_point now) {
  std::lock_guard lock(mu_);
  // Bound memory under a spray of addresses or names: forget everything
  // that is no longer locked when the tables grow large.
  constexpr std::size_t kMaxEntries = 100000;
  for (auto* map : {&by_ip_, &by_user_}) {
    if (map->size() < kMaxEntries) continue;
    std::erase_if(*map, [&](const auto& kv) { return now >= kv.second.locked_until; });
  }
  bump(by_ip_[std::string(ip)], now);
  if (!user.empty()) bump(by_user_[std::string(user)], now);
}

void AuthThrottle::record_success(std::string_view ip, std::string_view user) {
  std::lock_guard lock(mu_);
  // A success proves the user's password is known to this client, so the
  // user's count restarts. The address keeps its count: one address that
  // guesses many users' passwords and hits one must stay throttled.
  by_user_.erase(std::string(user));
  (void)ip;
}

}  // namespace postern::auth
