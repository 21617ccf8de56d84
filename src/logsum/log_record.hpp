// One of postern's own log lines, taken apart: when, how severe, which event
// and its key=value fields (obs/log.hpp writes them). The same line arrives
// in three dresses: postern's stderr format
//   2026-12-07T15:53:42.123+01:00 info queued id=... from=<a@b> size=312
// a classic syslog file
//   Dec  7 15:53:42 mail postern[812]: queued id=... from=<a@b> size=312
// and rsyslog's high-precision format
//   2026-12-07T15:53:42.123456+01:00 mail postern[812]: queued id=...
// Pure: the input is whatever file the operator points at, so nothing in it
// may crash or mislead the parser (tests/fuzz/log_summary_fuzz.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::logsum {

struct LogRecord {
  std::string date;   // "2026-12-07", or "Dec 7" from classic syslog
  int hour = -1;      // 0-23 in the line's own time zone; -1 when unknown
  std::string level;  // "info", "warning", "error"; empty from syslog
  std::string event;  // "queued", "delivered", "auth", ...
  std::vector<std::pair<std::string, std::string>> fields;  // in line order, unquoted

  // The value of `key`, or empty when the line has no such field.
  std::string_view field(std::string_view key) const;
  bool has(std::string_view key) const;
};

// nullopt for a line that is not postern's (another program's syslog line,
// a blank line, the harness's own notes, a start-up banner).
std::optional<LogRecord> parse_log_line(std::string_view line);

// "<a@b>" -> "a@b"; anything else unchanged.
std::string_view strip_angles(std::string_view address);

}  // namespace postern::logsum
