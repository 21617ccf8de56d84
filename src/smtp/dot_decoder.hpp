// Decodes the DATA section (RFC 5321 §4.1.1.4, §4.5.2): dot-unstuffing and
// the end marker CRLF "." CRLF — and nothing else. A bare LF or bare CR
// never ends the message and is stored as CRLF, so that no next hop can read
// it as a line end that a smuggled "." could follow (SMTP smuggling, 2023).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace postern::smtp {

class DotDecoder {
 public:
  // Appends decoded bytes to `out` while `out` stays within `limit` bytes;
  // beyond that it keeps scanning for the end but stores nothing more and
  // sets overflowed(). Returns how many input bytes were used: all of them,
  // or up to and including the end marker.
  std::size_t feed(std::string_view in, std::string& out, std::size_t limit);
  bool done() const { return state_ == State::done; }
  bool overflowed() const { return overflowed_; }
  void reset() { *this = DotDecoder{}; }

 private:
  // line_start: after a real CRLF (or at the very beginning), where a dot is
  // stuffing or the start of the end marker.
  enum class State { line_start, in_line, cr, dot, dot_cr, done };
  void emit(std::string& out, std::string_view bytes, std::size_t limit);
  State state_ = State::line_start;
  bool overflowed_ = false;
};

}  // namespace postern::smtp
