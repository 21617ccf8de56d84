// What `postern queue` and `postern sendmail` share: finding the
// configuration (hence data_dir, the spool and control.sock) and talking to
// the running server.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "control/control_client.hpp"

namespace postern::cli {

// Where the configuration comes from, in order: `explicit_path` (--config),
// the POSTERN_CONFIG environment variable, `system_path` when given and the
// file exists, and otherwise the embedded default rooted at the current
// directory (as `postern serve` without --config). On a configuration with
// errors, prints them prefixed with `who` and returns nullopt.
std::optional<config::Config> load_target_config(std::string_view who,
                                                 const std::string& explicit_path,
                                                 const std::filesystem::path& system_path = {});

std::filesystem::path control_socket(const config::Config& config);

// The sentence for a server that is not there, naming the socket looked for.
std::string not_running_text(const config::Config& config);

}  // namespace postern::cli
