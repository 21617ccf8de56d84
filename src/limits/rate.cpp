#include "limits/rate.hpp"

#include <fmt/format.h>

namespace postern::limits {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Digits only, at most 12 of them (so no overflow), as a number.
std::optional<std::uint64_t> number(std::string_view s) {
  if (!all_digits(s) || s.size() > 12) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : s) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  return n;
}

}  // namespace

std::string Rate::text() const {
  const auto ms = window.count();
  std::string w;
  if (ms % 86'400'000 == 0) {
    w = fmt::format("{}d", ms / 86'400'000);
  } else if (ms % 3'600'000 == 0) {
    w = fmt::format("{}h", ms / 3'600'000);
  } else if (ms % 60'000 == 0) {
    w = fmt::format("{}m", ms / 60'000);
  } else if (ms % 1000 == 0) {
    w = fmt::format("{}s", ms / 1000);
  } else {
    w = fmt::format("{}ms", ms);
  }
  return fmt::format("{}/{}", count, w);
}

double Rate::per_second() const {
  if (window.count() <= 0) return 0;
  return static_cast<double>(count) * 1000.0 / static_cast<double>(window.count());
}

RateParse parse_rate(std::string_view text) {
  RateParse out;
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    out.error = "a rate is count/window, such as \"30/1m\"; this one has no \"/\"";
    return out;
  }
  const std::string_view count_text = text.substr(0, slash);
  const std::string_view window_text = text.substr(slash + 1);
  const auto count = number(count_text);
  if (!count) {
    out.error = fmt::format("the count \"{}\" is not a whole number", count_text);
    return out;
  }
  if (*count == 0) {
    out.error =
        "a count of 0 would refuse everything; remove the limit instead, or write at least 1";
    return out;
  }
  if (*count > kMaxCount) {
    out.error = fmt::format("the count {} is above the largest allowed, {}", *count, kMaxCount);
    return out;
  }
  if (window_text.empty()) {
    out.error = "the window after \"/\" is missing; write one such as 1m, 1h or 1d";
    return out;
  }
  const char unit = window_text.back();
  std::uint64_t unit_seconds = 0;
  switch (unit) {
    case 's':
      unit_seconds = 1;
      break;
    case 'm':
      unit_seconds = 60;
      break;
    case 'h':
      unit_seconds = 3600;
      break;
    case 'd':
      unit_seconds = 86400;
      break;
    default:
      out.error = fmt::format(
          "the window \"{}\" needs a unit: s, m, h or d (as in 1m, 15m, 1h, 1d)", window_text);
      return out;
  }
  const std::string_view amount_text = window_text.substr(0, window_text.size() - 1);
  std::uint64_t amount = 1;  // "30/m": a bare unit is one of it
  if (!amount_text.empty()) {
    const auto n = number(amount_text);
    if (!n || *n == 0) {
      out.error = fmt::format("the window \"{}\" must be a positive number and a unit, as in 15m",
                              window_text);
      return out;
    }
    amount = *n;
  }
  const std::uint64_t seconds = amount * unit_seconds;
  if (seconds < static_cast<std::uint64_t>(kMinWindow.count()) ||
      seconds > static_cast<std::uint64_t>(kMaxWindow.count())) {
    out.error = fmt::format("the window \"{}\" is outside 1s to 30d", window_text);
    return out;
  }
  out.rate = Rate{*count, std::chrono::seconds(seconds)};
  return out;
}

}  // namespace postern::limits
