#include "cli/control_target.hpp"

#include <cstdlib>
#include <iostream>

#include "control/control_protocol.hpp"

namespace postern::cli {

std::optional<config::Config> load_target_config(std::string_view who,
                                                 const std::string& explicit_path,
                                                 const std::filesystem::path& system_path) {
  std::filesystem::path path = explicit_path;
  if (path.empty()) {
    if (const char* env = std::getenv("POSTERN_CONFIG"); env != nullptr && *env != '\0') {
      path = env;
    }
  }
  std::error_code ec;
  if (path.empty() && !system_path.empty() && std::filesystem::exists(system_path, ec)) {
    path = system_path;
  }
  if (path.empty()) return config::embedded_default(std::filesystem::current_path());
  auto loaded = config::load_file(path);
  if (!loaded.config) {
    for (const auto& p : loaded.problems) {
      if (p.severity != config::Problem::Severity::error) continue;
      std::cerr << who << ": " << p.where << ": " << p.message << "\n";
    }
    std::cerr << who << ": cannot use " << path.string() << " (`postern check --config "
              << path.string() << "` explains)\n";
    return std::nullopt;
  }
  return std::move(*loaded.config);
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
    text +=
        "; without --config the embedded default's data_dir under the current directory "
        "is used";
  }
  return text;
}

}  // namespace postern::cli
