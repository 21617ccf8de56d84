#include "message/header_section.hpp"

#include "core/text.hpp"

namespace postern::message {
namespace {

// ftext (RFC 5322 §3.6.8): printable ASCII except ':'.
bool is_ftext(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 33 && u <= 126 && c != ':';
}

// The field name of a header line, or empty when the line is not "name:".
std::string_view field_name(std::string_view line) {
  std::size_t n = 0;
  while (n < line.size() && is_ftext(line[n])) ++n;
  if (n == 0) return {};
  std::size_t colon = n;
  while (colon < line.size() && (line[colon] == ' ' || line[colon] == '\t')) ++colon;
  if (colon >= line.size() || line[colon] != ':') return {};
  return line.substr(0, n);
}

}  // namespace

bool has_header(std::string_view message, std::string_view name) {
  // Content that does not begin with a field has no header section at all
  // (the session then puts an empty line before it): a "Date:" line further
  // down is body text.
  if (!starts_with_header_field(message)) return false;
  std::size_t pos = 0;
  while (pos < message.size()) {
    const auto eol = message.find('\n', pos);
    std::string_view line =
        message.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return false;  // end of the header section
    if (iequals(field_name(line), name)) return true;
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return false;
}

bool starts_with_header_field(std::string_view message) {
  const auto eol = message.find('\n');
  return !field_name(message.substr(0, eol)).empty();
}

}  // namespace postern::message
