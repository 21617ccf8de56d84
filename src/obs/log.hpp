// Event log in the spirit of Postfix's mail.log: one line per event, a fixed
// lowercase event word, then key=value fields with the session or queue id
// first. Example:
//   connect session=4f2a9c client=127.0.0.1:51234 listener=127.0.0.1:2587 role=submission
// Secrets never reach this module: callers pass user names, never passwords.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace postern::obs {

enum class Level { debug, info, warning, error };

// Where lines go: "stderr" (default) or "syslog" (facility mail).
void init_logging(std::string_view target, Level min_level = Level::info);

void log_line(Level level, std::string_view event, std::string_view fields);

template <typename... Args>
void event(std::string_view name, fmt::format_string<Args...> fields, Args&&... args) {
  log_line(Level::info, name, fmt::format(fields, std::forward<Args>(args)...));
}

template <typename... Args>
void warning(std::string_view name, fmt::format_string<Args...> fields, Args&&... args) {
  log_line(Level::warning, name, fmt::format(fields, std::forward<Args>(args)...));
}

template <typename... Args>
void error(std::string_view name, fmt::format_string<Args...> fields, Args&&... args) {
  log_line(Level::error, name, fmt::format(fields, std::forward<Args>(args)...));
}

// Makes text safe for a key=value field: control bytes become '?', so a
// client cannot forge log lines with CR/LF in what it sends.
std::string sanitize(std::string_view text, std::size_t max_len = 200);

}  // namespace postern::obs
