#include "message/line_endings.hpp"

namespace postern::message {

std::string normalize_line_endings(std::string_view in) {
  std::string out;
  out.reserve(in.size() + in.size() / 64);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string to_crlf_lines(std::string_view text) {
  std::string out = normalize_line_endings(text);
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

}  // namespace postern::message
