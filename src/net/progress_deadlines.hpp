// When a session must have made progress by (docs/limits.md, "Slow
// clients"). Pure: fed the time and what the bytes did; the connection
// driver arms its one watchdog at deadline().
//
// The idle timeout alone bounds each wait, not the session: a client that
// trickles one byte every few seconds, or finishes a NOOP just inside every
// idle timeout, or feeds a message at a few bytes a second, would hold its
// session (a descriptor and a slot of max_sessions_per_ip) forever. So,
// with T = [limits] idle_timeout:
//   - idle: T without progress (a complete command, or 1 KiB of content);
//   - command_line: a command line, once begun, is complete within
//     min(T, 30s) (clients send a line in one go; telnet sends on Enter);
//   - between_messages: outside message content a session has 2T from its
//     start or from its last queued message (NOOP keep-alives end there);
//   - data_rate: message content arrives at 1 KiB/s or better on average,
//     after a grace of T: by data start + T + bytes / 1 KiB/s.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

namespace postern::net {

class ProgressDeadlines {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kCommandLineMax{30};
  static constexpr std::size_t kMinDataRate = 1024;  // bytes per second
  static constexpr std::size_t kProgressBytes = 1024;

  explicit ProgressDeadlines(std::chrono::seconds idle) : idle_(idle) {}

  // The session starts (or restarts after a TLS handshake: the idle clock
  // starts again, the others keep running).
  void start(Clock::time_point now);
  void touch(Clock::time_point now);
  // After feeding `n` bytes read at `now`. `in_message`: the session is
  // reading message content; `partial_line`: outside content, a command
  // line is begun but not complete.
  void bytes(Clock::time_point now, std::size_t n, bool in_message, bool partial_line);
  // A message was queued: the between-messages allowance starts again.
  void message_queued(Clock::time_point now);

  Clock::time_point deadline() const;
  // Which rule deadline() is: "idle", "command_line", "between_messages",
  // "data_rate" (for the log line when it passes).
  std::string_view rule() const;

  std::chrono::seconds command_line_limit() const { return std::min(idle_, kCommandLineMax); }
  std::chrono::seconds between_messages_limit() const { return 2 * idle_; }

 private:
  static constexpr Clock::time_point kNever = Clock::time_point::max();
  Clock::time_point data_deadline() const;

  const std::chrono::seconds idle_;
  Clock::time_point idle_deadline_ = kNever;
  Clock::time_point line_deadline_ = kNever;
  Clock::time_point phase_deadline_ = kNever;
  Clock::duration phase_left_{};  // of between_messages, kept while in content
  bool in_message_ = false;
  Clock::time_point data_start_{};
  std::size_t data_bytes_ = 0;
  std::size_t unproductive_bytes_ = 0;
};

}  // namespace postern::net
