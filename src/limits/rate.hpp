// A rate limit as the configuration writes it: "30/1m" is at most 30 events
// in any window of one minute (SPEC §1.10). The window takes one number and
// a unit (s, m, h, d); a bare unit means one of it ("30/m").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::limits {

struct Rate {
  std::uint64_t count = 0;
  std::chrono::milliseconds window{0};

  // The configuration's spelling, "30/1m", "500/1h", "2000/1d", "90/90s".
  std::string text() const;
  // Events per second, for comparing limits of different windows.
  double per_second() const;
  bool operator==(const Rate&) const = default;
};

// Bounds that keep every sum and product in range and rule out limits that
// cannot mean anything (a window shorter than a clock tick of the shared
// state, or longer than anyone keeps counters).
inline constexpr std::uint64_t kMaxCount = 1'000'000'000;
inline constexpr std::chrono::seconds kMinWindow{1};
inline constexpr std::chrono::seconds kMaxWindow{30 * 24 * 3600};

struct RateParse {
  std::optional<Rate> rate;
  std::string
      error;  // what is wrong, when rate is empty: "the window \"1x\" has no unit s, m, h or d"
};
RateParse parse_rate(std::string_view text);

}  // namespace postern::limits
