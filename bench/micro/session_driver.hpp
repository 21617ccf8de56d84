// Runs whole SMTP sessions through smtp::ServerSession without sockets,
// clock or randomness (the way tests/unit/smtp/session_harness.hpp drives
// it), for the micro-benchmarks and the callgrind instruction count. Every
// CommitMessage is acknowledged at once, as a spool that never fails would.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "policy/static_directory.hpp"
#include "smtp/server_session.hpp"

namespace postern::bench {

class SessionDriver {
 public:
  SessionDriver();

  // Connection opened: banner, then EHLO.
  void open();
  // One transaction on the open session: MAIL FROM (with SIZE and BODY),
  // RCPT TO and DATA pipelined in one flight (RFC 2920), then `data` (a DATA
  // section with its end marker) in one flight. True when the message was
  // committed and answered "250 2.0.0 Ok: queued as".
  bool transaction(std::string_view data);
  // QUIT; the session is gone afterwards.
  void close();
  // open(), transaction(data), close().
  bool deliver(std::string_view data);

  // Octets of message data committed so far (trace header included).
  std::size_t committed_bytes() const { return committed_bytes_; }

 private:
  // Carries out the session's actions until it has none left; returns how
  // many messages were answered as queued.
  std::size_t drain();

  policy::StaticDirectory directory_;
  smtp::SessionSettings settings_;
  std::unique_ptr<smtp::ServerSession> session_;
  std::size_t committed_bytes_ = 0;
};

}  // namespace postern::bench
