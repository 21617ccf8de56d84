// Limits that bound what one client can make the server hold. The defaults
// are the contract of SPEC §2 ([limits]).
#pragma once

#include <chrono>
#include <cstddef>

namespace postern {

struct Limits {
  std::size_t max_message_size = 36700160;  // bytes, advertised in SIZE
  std::size_t max_recipients = 100;         // per message
  std::chrono::seconds idle_timeout{300};   // any read waiting longer closes
  std::size_t max_sessions = 10000;         // all listeners together
  std::size_t max_sessions_per_ip = 50;
  std::size_t max_errors = 10;  // protocol errors before 421 and close
};

// RFC 5321 §4.5.3.1.4 allows 512 octets for a command line; extensions
// (SIZE=, BODY=, SMTPUTF8, DSN parameters, AUTH=) may add to it, and
// RFC 1869 §3 asks servers to allow room for them.
inline constexpr std::size_t kMaxCommandLine = 2048;

}  // namespace postern
