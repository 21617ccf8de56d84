#include "logsum/log_record.hpp"

#include <array>
#include <cctype>

namespace postern::logsum {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Splits off the next space-separated token (runs of spaces count as one:
// classic syslog pads single-digit days with a space).
std::string_view next_token(std::string_view& rest) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  const auto end = rest.find(' ');
  const std::string_view token = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return token;
}

// "2026-12-07T15:53:42..." (any fraction, any zone suffix).
bool iso_time(std::string_view t, std::string& date, int& hour) {
  if (t.size() < 16 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12}) {
    if (!is_digit(t[i])) return false;
  }
  date = std::string(t.substr(0, 10));
  hour = (t[11] - '0') * 10 + (t[12] - '0');
  if (hour > 23) return false;
  return true;
}

bool month_name(std::string_view t) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (auto m : kMonths) {
    if (t == m) return true;
  }
  return false;
}

// "HH:MM:SS"
bool clock_time(std::string_view t, int& hour) {
  if (t.size() < 8 || t[2] != ':' || t[5] != ':' || !is_digit(t[0]) || !is_digit(t[1])) {
    return false;
  }
  hour = (t[0] - '0') * 10 + (t[1] - '0');
  return hour <= 23;
}

// "postern[812]:" or "postern:" (the syslog tag our sink sets).
bool postern_tag(std::string_view t) {
  if (t == "postern:") return true;
  return t.starts_with("postern[") && t.ends_with("]:");
}

bool is_level(std::string_view t) {
  return t == "info" || t == "warning" || t == "error" || t == "debug" || t == "critical" ||
         t == "trace";
}

bool is_event_word(std::string_view t) {
  if (t.empty() || t.size() > 32) return false;
  for (char c : t) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  return true;
}

bool is_key(std::string_view k) {
  if (k.empty() || k.size() > 64) return false;
  for (char c : k) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// key=value pairs. A quoted value ends at a quote followed by a space or
// the end of the line: some writers escape inner quotes (\"), others only
// replace control bytes, and both must come out whole.
void parse_fields(std::string_view rest, LogRecord& r) {
  while (!rest.empty()) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) break;
    const auto eq = rest.find('=');
    const auto space = rest.find(' ');
    if (eq == std::string_view::npos || (space != std::string_view::npos && space < eq)) {
      rest.remove_prefix(space == std::string_view::npos ? rest.size() : space);  // a bare word
      continue;
    }
    const std::string_view key = rest.substr(0, eq);
    rest.remove_prefix(eq + 1);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      rest.remove_prefix(1);
      std::size_t i = 0;
      for (; i < rest.size(); ++i) {
        const char c = rest[i];
        if (c == '\\' && i + 1 < rest.size() && (rest[i + 1] == '"' || rest[i + 1] == '\\')) {
          value += rest[++i];
          continue;
        }
        if (c == '"' && (i + 1 == rest.size() || rest[i + 1] == ' ')) break;
        value += c;
      }
      rest.remove_prefix(i < rest.size() ? i + 1 : rest.size());
    } else {
      const auto end = rest.find(' ');
      value = std::string(rest.substr(0, end));
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    }
    if (is_key(key)) r.fields.emplace_back(std::string(key), std::move(value));
  }
}

}  // namespace

std::string_view LogRecord::field(std::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  return {};
}

bool LogRecord::has(std::string_view key) const {
  for (const auto& kv : fields) {
    if (kv.first == key) return true;
  }
  return false;
}

std::string_view strip_angles(std::string_view address) {
  if (address.size() >= 2 && address.front() == '<' && address.back() == '>') {
    return address.substr(1, address.size() - 2);
  }
  return address;
}

std::optional<LogRecord> parse_log_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  LogRecord r;
  std::string_view rest = line;
  const std::string_view first = next_token(rest);
  if (iso_time(first, r.date, r.hour)) {
    std::string_view after = rest;
    const std::string_view second = next_token(after);
    if (is_level(second)) {
      r.level = std::string(second);
      rest = after;
    } else {
      // rsyslog high precision: host, then the tag.
      if (!postern_tag(next_token(after))) return std::nullopt;
      rest = after;
    }
  } else if (month_name(first)) {
    const std::string_view day = next_token(rest);
    if (day.empty() || day.size() > 2 || !is_digit(day.front())) return std::nullopt;
    if (!clock_time(next_token(rest), r.hour)) return std::nullopt;
    r.date = std::string(first) + " " + std::string(day);
    next_token(rest);  // host
    if (!postern_tag(next_token(rest))) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (r.level.empty()) {
    // journalctl -o short-iso: the journal's stamp and tag, then the line
    // postern wrote to stderr with its own stamp and level.
    std::string_view after = rest;
    std::string date;
    int hour = -1;
    if (iso_time(next_token(after), date, hour)) {
      const std::string_view level = next_token(after);
      if (is_level(level)) {
        r.date = std::move(date);
        r.hour = hour;
        r.level = std::string(level);
        rest = after;
      }
    }
  }
  const std::string_view event = next_token(rest);
  if (!is_event_word(event)) return std::nullopt;
  r.event = std::string(event);
  parse_fields(rest, r);
  return r;
}

}  // namespace postern::logsum
