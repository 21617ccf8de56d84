#include "config/duration.hpp"

#include <cstdint>

namespace postern::config {

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  // Bounded so that no sum can overflow: 10^12 seconds is far beyond any
  // sensible timeout and fits easily in int64.
  constexpr std::int64_t kMaxSeconds = 1'000'000'000'000;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t number = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      number = number * 10 + (text[i] - '0');
      if (number > kMaxSeconds) return std::nullopt;
      ++i;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    std::int64_t unit = 0;
    if (i == text.size()) {
      // A bare number is seconds, but only on its own: "1h30" is ambiguous.
      if (total != 0 || i != digits) return std::nullopt;
      unit = 1;
    } else {
      switch (text[i]) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        default:
          return std::nullopt;
      }
      ++i;
    }
    total += number * unit;
    if (total > kMaxSeconds) return std::nullopt;
  }
  return std::chrono::seconds(total);
}

}  // namespace postern::config
