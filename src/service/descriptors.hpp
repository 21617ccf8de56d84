// File descriptors as a budget. Each SMTP session holds one descriptor (its
// socket); the rest of the server needs a fixed share that must never be
// taken by clients: spool segments and directories, outbound deliveries
// (socket and Maildir files), the control socket and its clients, the
// event loops, the listeners, the resolver, metrics and logs. When sessions
// could eat that share, a crowd of slow clients made accept() fail with
// EMFILE, a legitimate client got no banner and the log filled every 100 ms
// (issue 17). So the soft limit is raised to the hard limit at start, and
// max_sessions is capped to what is left after the reserve; a client over
// the cap still gets its 421 (SessionLimiter), because the reserve keeps
// room to accept it, answer and close.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace postern::service {

struct DescriptorNeeds {
  std::size_t listeners = 0;
  std::size_t event_loops = 1;
  std::size_t outbound_connections = 20;  // [delivery] max_connections
};

// Descriptors kept out of the sessions' reach.
std::size_t reserved_descriptors(const DescriptorNeeds& needs);

struct SessionBudget {
  std::size_t effective_max_sessions = 0;
  std::size_t reserved = 0;
  bool capped = false;  // the configured max_sessions does not fit
};

// Pure: what max_sessions can be with `nofile` descriptors in all.
SessionBudget plan_sessions(std::uint64_t nofile, std::size_t configured_max_sessions,
                            const DescriptorNeeds& needs);

struct NofileLimit {
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
  std::uint64_t before = 0;  // soft limit before raising
};

// Raises the soft RLIMIT_NOFILE to the hard one and returns both.
NofileLimit raise_nofile_limit();
// Reads the limits without changing them (the hard limit is what the
// server would raise to; `postern check` uses it).
NofileLimit read_nofile_limit();

}  // namespace postern::service
