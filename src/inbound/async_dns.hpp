// The DNS the inbound checks ask, as an interface: the pure cores only
// name questions (mailauth::Question); the edge asks them through this,
// and app/ implements it with the server's libunbound resolver (SPEC §1.8:
// the same resolver as delivery). An answer arrives by callback, so a
// session waiting for DNS holds no thread.
#pragma once

#include <chrono>
#include <functional>

#include "mailauth/dns_answer.hpp"

namespace postern::inbound {

class AsyncDns {
 public:
  virtual ~AsyncDns() = default;
  // `done` runs exactly once, on any thread, by `deadline` at the latest
  // (then with a temporary_failure answer). It must not block.
  virtual void ask(const mailauth::Question& question,
                   std::chrono::steady_clock::time_point deadline,
                   std::function<void(mailauth::Answer)> done) = 0;
};

}  // namespace postern::inbound
