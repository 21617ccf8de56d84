// Lints of running as a service (docs/service.md), apart from lint()
// because they depend on the machine and the process that starts the
// server, not only on the file: whether it runs as root, which users exist,
// the descriptor limit. `postern check` and `postern serve` run them.
#pragma once

#include <vector>

#include "config/config.hpp"

namespace postern::config {

// The service user (exists; staying root only when written out), the TLS
// key readable by it for reloads, max_sessions against the descriptor
// limit.
std::vector<Problem> lint_service(const Config& config);

}  // namespace postern::config
