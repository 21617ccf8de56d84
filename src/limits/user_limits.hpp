// Per-user limits on submission (SPEC §1.10): messages and recipients per
// window, with overrides per user, and the AUTH failure limits. Pure: which
// counters a check touches, and what their answer means.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "limits/counters.hpp"
#include "limits/rate.hpp"

namespace postern::limits {

enum class UserLimit { messages, recipients };
// The configuration key: "user_messages", "user_recipients".
std::string_view to_string(UserLimit limit);

struct UserRates {
  std::vector<Rate> messages;
  std::vector<Rate> recipients;
  const std::vector<Rate>& of(UserLimit limit) const {
    return limit == UserLimit::messages ? messages : recipients;
  }
};

// [limits] user_messages, user_recipients, auth_failures_per_ip,
// auth_failures_per_user and [limits.user."name"] overrides. Defaults are
// SPEC §2's.
struct RateLimits {
  UserRates defaults{{Rate{30, std::chrono::minutes(1)}, Rate{500, std::chrono::hours(1)}},
                     {Rate{2000, std::chrono::hours(24)}}};
  // A key an override leaves out is the default's.
  struct Override {
    std::optional<std::vector<Rate>> messages;
    std::optional<std::vector<Rate>> recipients;
  };
  std::map<std::string, Override, std::less<>> overrides;  // by canonical (lowercase) user
  Rate auth_failures_per_ip{10, std::chrono::minutes(15)};
  Rate auth_failures_per_user{10, std::chrono::minutes(15)};

  // `user` in canonical form (auth::normalize_address).
  UserRates for_user(std::string_view user) const;
  // True when no user has any message or recipient limit: the session
  // then asks nothing.
  bool no_user_limits() const;
};

// The counters of one check: one per configured rate of the kind, keyed by
// kind, window and user, so that a user whose override changes the count
// but keeps the window keeps their history. Empty: no limit applies.
Request user_request(UserLimit limit, std::string_view user, const std::vector<Rate>& rates);

struct UserVerdict {
  bool allowed = true;
  Rate limit;                           // the limit that refused
  std::chrono::seconds retry_after{0};  // rounded up to whole seconds, at least 1
};
UserVerdict judge(const std::vector<Rate>& rates, const Outcome& outcome);

}  // namespace postern::limits
