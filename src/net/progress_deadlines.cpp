#include "net/progress_deadlines.hpp"

#include <algorithm>

namespace postern::net {

void ProgressDeadlines::start(Clock::time_point now) {
  idle_deadline_ = now + idle_;
  phase_deadline_ = now + between_messages_limit();
}

void ProgressDeadlines::touch(Clock::time_point now) {
  idle_deadline_ = now + idle_;
}

void ProgressDeadlines::bytes(Clock::time_point now, std::size_t n, bool in_message,
                              bool partial_line) {
  if (in_message && !in_message_) {
    // Content begins: the between-messages clock pauses (a large message
    // may take longer than 2T) and the rate clock starts.
    in_message_ = true;
    phase_left_ = std::max(Clock::duration::zero(), phase_deadline_ - now);
    data_start_ = now;
    data_bytes_ = 0;
    line_deadline_ = kNever;
  } else if (!in_message && in_message_) {
    // Content ended (end of DATA, or a BDAT chunk): the pause is over.
    in_message_ = false;
    phase_deadline_ = now + phase_left_;
  }
  unproductive_bytes_ += n;
  if (in_message_) {
    data_bytes_ += n;
  } else if (!partial_line) {
    // A complete command: progress.
    idle_deadline_ = now + idle_;
    line_deadline_ = kNever;
    unproductive_bytes_ = 0;
    return;
  } else if (line_deadline_ == kNever) {
    line_deadline_ = now + command_line_limit();
  }
  if (unproductive_bytes_ >= kProgressBytes) {
    idle_deadline_ = now + idle_;
    unproductive_bytes_ = 0;
  }
}

void ProgressDeadlines::message_queued(Clock::time_point now) {
  phase_deadline_ = now + between_messages_limit();
  phase_left_ = between_messages_limit();
}

ProgressDeadlines::Clock::time_point ProgressDeadlines::data_deadline() const {
  const auto allowance = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(data_bytes_) / kMinDataRate));
  return data_start_ + idle_ + allowance;
}

ProgressDeadlines::Clock::time_point ProgressDeadlines::deadline() const {
  if (in_message_) return std::min(idle_deadline_, data_deadline());
  return std::min({idle_deadline_, line_deadline_, phase_deadline_});
}

std::string_view ProgressDeadlines::rule() const {
  const auto d = deadline();
  if (d == idle_deadline_) return "idle";
  if (in_message_) return "data_rate";
  if (d == line_deadline_) return "command_line";
  return "between_messages";
}

}  // namespace postern::net
