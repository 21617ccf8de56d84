// What Dovecot's auth protocols (auth-client and auth-master) share on the
// wire: lines ending in LF, fields separated by TAB, and the escaping that
// keeps TAB, LF and friends out of a field (Dovecot's str_tabescape():
// 0x01 -> 01 '1', TAB -> 01 't', LF -> 01 'n', CR -> 01 'r').
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::dovecot {

std::string tab_escape(std::string_view field);
std::string tab_unescape(std::string_view field);

// Splits one line (without its LF) at TABs; fields stay escaped.
std::vector<std::string_view> split_fields(std::string_view line);

// Collects bytes and hands out complete lines. A line longer than the limit
// is a protocol error: Dovecot's own lines are short (a few hundred bytes;
// CONT carries base64 of a short challenge), so a long one means we are not
// talking to Dovecot.
class LineReader {
 public:
  static constexpr std::size_t kMaxLine = 16 * 1024;

  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete line without its LF (and a CR before it), or nothing.
  // Sets `too_long` when the buffered partial line exceeds kMaxLine.
  std::optional<std::string> next_line(bool& too_long);

 private:
  std::string buffer_;
};

}  // namespace postern::dovecot
