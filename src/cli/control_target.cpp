#include "cli/control_target.hpp"

#include <cstdlib>
#include <iostream>

#include "cli/config_source.hpp"
#include "control/control_protocol.hpp"

namespace postern::cli {

std::optional<config::Config> load_target_config(std::string_view who,
                                                 const std::string& explicit_path) {
  auto found = find_config(who, explicit_path);
  if (!found) return std::nullopt;
  return std::move(found->config);
}

std::filesystem::path control_socket(const config::Config& config) {
  return config.data_dir / control::kSocketName;
}

std::string not_running_text(const config::Config& config) {
  const std::filesystem::path sock = control_socket(config);
  std::error_code ec;
  const bool exists = std::filesystem::exists(std::filesystem::symlink_status(sock, ec));
  std::string text = "postern does not seem to be running (";
  text += exists ? "nobody answers on " + sock.string() : "no " + sock.string();
  text += ")";
  if (!exists && !config.source.empty()) {
    text += "; is " + config.source.string() + " the configuration the server runs with?";
  } else if (!exists) {
    text += "; no configuration was found (no --config, no $POSTERN_CONFIG, no " +
            std::string(kSystemConfig) +
            "), so the embedded default's data_dir under the current directory was used";
  }
  return text;
}

}  // namespace postern::cli
