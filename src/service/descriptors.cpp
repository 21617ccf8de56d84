#include "service/descriptors.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace postern::service {
namespace {

// Fixed needs, counted generously: stdin/out/err and syslog (4); the spool's
// open segment, its directories and a recovery scan (16); the control
// socket and the clients it serves at once (16); the metrics listener and
// its scrapes (10); the resolver's sockets (16); each event loop's epoll,
// eventfd and timerfd (4 each); each outbound delivery's socket plus a
// Maildir file and its directory for local delivery (3 each); and room to
// accept a client over the limit just to tell it 421 (16).
constexpr std::size_t kFixed = 4 + 16 + 16 + 10 + 16 + 16;
constexpr std::size_t kPerLoop = 4;
constexpr std::size_t kPerDelivery = 3;

}  // namespace

std::size_t reserved_descriptors(const DescriptorNeeds& needs) {
  return kFixed + needs.listeners + kPerLoop * needs.event_loops +
         kPerDelivery * needs.outbound_connections;
}

SessionBudget plan_sessions(std::uint64_t nofile, std::size_t configured,
                            const DescriptorNeeds& needs) {
  SessionBudget b;
  b.reserved = reserved_descriptors(needs);
  const std::uint64_t room = nofile > b.reserved ? nofile - b.reserved : 0;
  b.effective_max_sessions = static_cast<std::size_t>(
      std::min<std::uint64_t>(room, static_cast<std::uint64_t>(configured)));
  b.capped = b.effective_max_sessions < configured;
  return b;
}

NofileLimit read_nofile_limit() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  return {rl.rlim_cur, rl.rlim_max, rl.rlim_cur};
}

NofileLimit raise_nofile_limit() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  const std::uint64_t before = rl.rlim_cur;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised{rl.rlim_max, rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  return {rl.rlim_cur, rl.rlim_max, before};
}

}  // namespace postern::service
