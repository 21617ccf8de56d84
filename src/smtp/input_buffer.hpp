// The bytes a session has received and not used yet, and the splitting of
// command lines out of them (RFC 5321 §2.3.8, §4.5.3.1.4).
//
// Command lines end with CRLF; a bare LF is accepted as well because common
// clients send it, and the CR before it is dropped. (Inside DATA, bare LF
// never ends anything: that is the DotDecoder's job, not this one's.)
// A line longer than the limit is reported once and its remainder discarded
// up to the next LF, so the buffer never grows past the limit while it
// waits for a line end.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace postern::smtp {

class InputBuffer {
 public:
  enum class LineResult {
    line,        // `line` holds one command line, terminator removed
    too_long,    // a line exceeded the limit; its rest will be discarded
    incomplete,  // no complete line buffered: wait for more input
  };

  explicit InputBuffer(std::size_t max_line) : max_line_(max_line) {}

  void append(std::string_view bytes);
  std::string_view view() const { return std::string_view(data_).substr(start_); }
  std::size_t size() const { return data_.size() - start_; }
  bool empty() const { return size() == 0; }
  void consume(std::size_t n);
  // Forgets everything buffered, and any partial over-long line.
  void clear();
  // Overwrites the bytes already taken out (an AUTH response carries a
  // password, which should not linger in the buffer).
  void wipe_consumed();

  // Takes the next command line out of the buffer. `line` is overwritten
  // (and cleared unless the result is LineResult::line).
  LineResult next_line(std::string& line);

 private:
  // Bytes before start_ are used; they are dropped lazily so that taking
  // many short pipelined lines out of a large buffer stays linear.
  std::string data_;
  std::size_t start_ = 0;
  std::size_t max_line_;
  bool discarding_ = false;  // inside the tail of an over-long line
};

}  // namespace postern::smtp
