// Reads one control request from a byte stream without doing I/O: the
// server's driver feeds whatever it received and asks what it has. Bytes
// beyond the request are never consumed (one request per connection), and
// nothing beyond the declared, bounded sizes is ever held.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "control/control_protocol.hpp"

namespace postern::control {

class RequestDecoder {
 public:
  enum class State { need_more, complete, error };

  // `max_message` bounds SUBMIT's message (the server's max_message_size).
  explicit RequestDecoder(std::size_t max_message) : max_message_(max_message) {}

  // Consumes what it can of `bytes` and returns how many it used; after
  // complete or error it uses none.
  std::size_t feed(std::string_view bytes);

  State state() const { return state_; }
  // Valid once complete.
  const Request& request() const { return request_; }
  const SubmitEnvelope& envelope() const { return envelope_; }
  std::string& message() { return message_; }
  // Why the request was refused, and which kind of refusal it is.
  const std::string& error() const { return error_; }
  ErrorKind error_kind() const { return error_kind_; }

 private:
  enum class Phase { line, envelope, message };

  void fail(ErrorKind kind, std::string why);
  void finish_line();
  void finish_envelope();

  std::size_t max_message_;
  State state_ = State::need_more;
  Phase phase_ = Phase::line;
  std::string line_;
  std::string envelope_block_;
  std::string message_;
  Request request_;
  SubmitEnvelope envelope_;
  std::string error_;
  ErrorKind error_kind_ = ErrorKind::usage;
};

}  // namespace postern::control
