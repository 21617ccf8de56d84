#include "state/in_process_store.hpp"

#include <chrono>

namespace postern::state {

limits::Outcome InProcessStore::apply_now(const limits::Request& request) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  std::lock_guard lock(mu_);
  return table_.apply(request, now);
}

void InProcessStore::apply(limits::Request request, Done done) {
  done(apply_now(request));
}

}  // namespace postern::state
