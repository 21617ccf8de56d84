// What a reload cannot change (SPEC §1.11): the listener addresses, and the
// few things fixed at start (where the data lives, which user the process
// became, where metrics listen). Everything else is applied by a reload.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace postern::config {

// One sentence per difference, e.g. "listener 127.0.0.1:2525 added", for the
// "needs a restart" log line and `postern reload`'s answer.
std::vector<std::string> needs_restart(const Config& running, const Config& next);

}  // namespace postern::config
