#include "control/request_decoder.hpp"

#include <algorithm>
#include <utility>

namespace postern::control {

void RequestDecoder::fail(ErrorKind kind, std::string why) {
  state_ = State::error;
  error_kind_ = kind;
  error_ = std::move(why);
}

void RequestDecoder::finish_line() {
  ParsedRequestLine parsed = parse_request_line(line_, max_message_);
  if (!parsed.request) {
    fail(parsed.kind, std::move(parsed.error));
    return;
  }
  request_ = std::move(*parsed.request);
  if (request_.verb != Verb::submit) {
    state_ = State::complete;
    return;
  }
  envelope_block_.reserve(request_.envelope_size);
  phase_ = Phase::envelope;
}

void RequestDecoder::finish_envelope() {
  DecodedEnvelope decoded = decode_submit_envelope(envelope_block_);
  if (!decoded.envelope) {
    fail(ErrorKind::usage, std::move(decoded.error));
    return;
  }
  envelope_ = std::move(*decoded.envelope);
  envelope_block_.clear();
  envelope_block_.shrink_to_fit();
  message_.reserve(request_.message_size);
  phase_ = Phase::message;
  if (request_.message_size == 0) state_ = State::complete;
}

std::size_t RequestDecoder::feed(std::string_view bytes) {
  std::size_t used = 0;
  while (state_ == State::need_more && used < bytes.size()) {
    const std::string_view rest = bytes.substr(used);
    switch (phase_) {
      case Phase::line: {
        const std::size_t lf = rest.find('\n');
        const std::size_t take = lf == std::string_view::npos ? rest.size() : lf;
        if (line_.size() + take > kMaxRequestLine) {
          fail(ErrorKind::usage, "request line too long");
          return used;
        }
        line_.append(rest.substr(0, take));
        used += take;
        if (lf != std::string_view::npos) {
          ++used;  // the LF
          finish_line();
        }
        break;
      }
      case Phase::envelope: {
        const std::size_t take =
            std::min(rest.size(), request_.envelope_size - envelope_block_.size());
        envelope_block_.append(rest.substr(0, take));
        used += take;
        if (envelope_block_.size() == request_.envelope_size) finish_envelope();
        break;
      }
      case Phase::message: {
        const std::size_t take = std::min(rest.size(), request_.message_size - message_.size());
        message_.append(rest.substr(0, take));
        used += take;
        if (message_.size() == request_.message_size) state_ = State::complete;
        break;
      }
    }
  }
  return used;
}

}  // namespace postern::control
