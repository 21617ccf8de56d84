#include "smtp/dot_decoder.hpp"

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
    const char c = in[i++];
    switch (state_) {
      case State::line_start:
        if (c == '.') {
          state_ = State::dot;
        } else if (c == '\r') {
          state_ = State::cr;
        } else if (c == '\n') {
          emit(out, "\r\n", limit);  // bare LF: stored as CRLF, not a line start
          state_ = State::in_line;
        } else {
          emit(out, std::string_view(&c, 1), limit);
          state_ = State::in_line;
        }
        break;
      case State::in_line:
        if (c == '\r') {
          state_ = State::cr;
        } else if (c == '\n') {
          emit(out, "\r\n", limit);
        } else {
          emit(out, std::string_view(&c, 1), limit);
        }
        break;
      case State::cr:
        emit(out, "\r\n", limit);
        if (c == '\n') {
          state_ = State::line_start;  // a real CRLF
        } else if (c == '\r') {
          // The previous CR was bare; this one may start a real CRLF.
        } else {
          // Bare CR: stored as CRLF, and the next byte is not a line start.
          state_ = State::in_line;
          --i;
        }
        break;
      case State::dot:
        if (c == '\r') {
          state_ = State::dot_cr;
        } else {
          // "If the first character is a period and there are other
          // characters on the line, the first character is deleted."
          state_ = State::in_line;
          --i;
        }
        break;
      case State::dot_cr:
        if (c == '\n') {
          state_ = State::done;  // CRLF "." CRLF
        } else {
          // "." then a bare CR: the dot was stuffing, the CR is bare.
          emit(out, "\r\n", limit);
          state_ = c == '\r' ? State::cr : State::in_line;
          if (c != '\r') --i;
        }
        break;
      case State::done:
        break;
    }
  }
  return i;
}

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

}  // namespace postern::smtp
