// Slows and then refuses repeated AUTH failures (SPEC §1.3), per client IP and
// per user name, so a password cannot be guessed at network speed.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace postern::auth {

struct ThrottlePolicy {
  std::size_t free_failures = 3;              // failures before delays start
  std::chrono::milliseconds delay_step{500};  // added delay per further failure
  std::size_t lock_after = 10;                // failures in the window before refusing
  std::chrono::seconds window{900};           // failures older than this are forgotten
  std::chrono::seconds lockout{900};
};

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit AuthThrottle(ThrottlePolicy policy = {});

  struct Verdict {
    bool refused = false;                // answer 454 without checking
    std::chrono::milliseconds delay{0};  // wait this long before answering
  };
  // Thread-safe.
  Verdict check(std::string_view ip, std::string_view user, Clock::time_point now);
  void record_failure(std::string_view ip, std::string_view user, Clock::time_point now);
  void record_success(std::string_view ip, std::string_view user);

 private:
  struct Entry {
    std::size_t failures = 0;
    Clock::time_point first_failure{};
    Clock::time_point locked_until{};
  };
  Verdict verdict_for(const Entry& e, Clock::time_point now) const;
  void bump(Entry& e, Clock::time_point now);

  ThrottlePolicy policy_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> by_ip_;
  std::unordered_map<std::string, Entry> by_user_;
};

}  // namespace postern::auth
