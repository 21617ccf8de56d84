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

// The configuration found as every subcommand finds it (config_source.hpp:
// --config, $POSTERN_CONFIG, /etc/postern/postern.toml, the embedded
// default). On a configuration with errors, prints them prefixed with `who`
// and returns nullopt.
std::optional<config::Config> load_target_config(std::string_view who,
                                                 const std::string& explicit_path);

std::filesystem::path control_socket(const config::Config& config);

// The sentence for a server that is not there, naming the socket looked for.
std::string not_running_text(const config::Config& config);

}  // namespace postern::cli
