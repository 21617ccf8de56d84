#include "smtp/input_buffer.hpp"

#include <algorithm>

namespace postern::smtp {

void InputBuffer::append(std::string_view bytes) {
  if (start_ > 0) {
    data_.erase(0, start_);
    start_ = 0;
  }
  data_.append(bytes);
}

void InputBuffer::consume(std::size_t n) {
  start_ += std::min(n, size());
}

void InputBuffer::wipe_consumed() {
  std::fill(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(start_), '\0');
}

void InputBuffer::clear() {
  data_.clear();
  start_ = 0;
  discarding_ = false;
}

InputBuffer::LineResult InputBuffer::next_line(std::string& line) {
  line.clear();
  for (;;) {
    const std::string_view rest = view();
    const auto lf = rest.find('\n');
    if (discarding_) {
      if (lf == std::string_view::npos) {
        clear();  // still inside the over-long line
        discarding_ = true;
        return LineResult::incomplete;
      }
      consume(lf + 1);
      discarding_ = false;
      continue;
    }
    if (lf == std::string_view::npos) {
      // The terminator does not count toward the limit, and a CR may still
      // be waiting for its LF: a line of exactly max_line_ octets is fine.
      if (rest.size() > max_line_ + 1) {
        clear();
        discarding_ = true;
        return LineResult::too_long;
      }
      return LineResult::incomplete;
    }
    std::size_t end = lf;
    if (end > 0 && rest[end - 1] == '\r') --end;
    if (end > max_line_) {
      consume(lf + 1);
      return LineResult::too_long;
    }
    line.assign(rest.substr(0, end));
    consume(lf + 1);
    return LineResult::line;
  }
}

}  // namespace postern::smtp
