#include "core/reply.hpp"

#include <fmt/format.h>

namespace postern {

std::string Reply::render() const {
  std::string out;
  const std::size_t n = lines.empty() ? 1 : lines.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view text = lines.empty() ? std::string_view{} : std::string_view{lines[i]};
    const char sep = (i + 1 == n) ? ' ' : '-';
    if (status.empty()) {
      fmt::format_to(std::back_inserter(out), "{}{}{}\r\n", code, sep, text);
    } else {
      fmt::format_to(std::back_inserter(out), "{}{}{} {}\r\n", code, sep, status, text);
    }
  }
  return out;
}

std::string Reply::summary() const {
  std::string out = fmt::format("{}", code);
  if (!status.empty()) out += " " + status;
  for (const auto& l : lines) {
    out += ' ';
    out += l;
  }
  return out;
}

}  // namespace postern
