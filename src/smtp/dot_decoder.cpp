#include "smtp/dot_decoder.hpp"

#include "smtp/line_break.hpp"

namespace postern::smtp {

void DotDecoder::emit(std::string& out, std::string_view bytes, std::size_t limit) {
  if (overflowed_) return;
  if (out.size() + bytes.size() > limit) {
    overflowed_ = true;
    return;
  }
  out.append(bytes);
}

std::size_t DotDecoder::feed(std::string_view in, std::string& out, std::size_t limit) {
  std::size_t i = 0;
  while (i < in.size() && state_ != State::done) {
    switch (state_) {
      case State::line_start:
      case State::in_line: {
        const char c = in[i];
        if (state_ == State::line_start && c == '.') {
          state_ = State::dot;
          ++i;
          break;
        }
        if (c == '\r') {
          state_ = State::cr;
          ++i;
          break;
        }
        if (c == '\n') {
          // A bare LF is stored as CRLF but does not start a line: a dot
          // after it is content, never the end marker.
          emit(out, "\r\n", limit);
          state_ = State::in_line;
          ++i;
          break;
        }
        // Copy the run of ordinary bytes up to the next CR or LF at once.
        const std::size_t end = find_line_break(in, i);
        emit(out, in.substr(i, end - i), limit);
        i = end;
        state_ = State::in_line;
        break;
      }
      case State::cr:
        emit(out, "\r\n", limit);
        if (in[i] == '\n') {
          state_ = State::line_start;  // a real CRLF
          ++i;
        } else {
          // The CR was bare: stored as CRLF, and what follows is not at a
          // line start. A second CR may still begin a real CRLF.
          state_ = in[i] == '\r' ? State::cr : State::in_line;
          if (in[i] == '\r') ++i;
        }
        break;
      case State::dot:
        if (in[i] == '\r') {
          state_ = State::dot_cr;
          ++i;
        } else {
          // "If the first character is a period and there are other
          // characters on the line, the first character is deleted."
          // (RFC 5321 §4.5.2). A bare LF right after the dot is such a
          // character too; the dot was stuffing.
          state_ = State::in_line;
        }
        break;
      case State::dot_cr:
        if (in[i] == '\n') {
          state_ = State::done;  // CRLF "." CRLF
          ++i;
        } else {
          // "." then a bare CR: the dot was stuffing, the CR is bare.
          emit(out, "\r\n", limit);
          state_ = State::in_line;
          if (in[i] == '\r') {
            state_ = State::cr;
            ++i;
          }
        }
        break;
      case State::done:
        break;
    }
  }
  return i;
}

}  // namespace postern::smtp
