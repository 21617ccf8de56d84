#include "cli/config_source.hpp"

#include <cstdlib>
#include <iostream>

namespace postern::cli {

ConfigChoice choose_config(const std::string& option_value) {
  if (!option_value.empty()) return {ConfigChoice::Origin::option, option_value};
  if (const char* env = std::getenv(kConfigEnvironment); env != nullptr && *env != '\0') {
    return {ConfigChoice::Origin::environment, env};
  }
  std::error_code ec;
  if (std::filesystem::exists(kSystemConfig, ec)) {
    return {ConfigChoice::Origin::system, kSystemConfig};
  }
  return {ConfigChoice::Origin::embedded, {}};
}

CLI::Option* add_config_option(CLI::App& command, std::string& path, std::string_view use,
                               std::string_view lookup) {
  std::string help = "Configuration file (TOML)";
  if (!use.empty()) help += "; " + std::string(use);
  if (!lookup.empty()) help += "; " + std::string(lookup);
  return command.add_option("--config,-c", path, help);
}

std::string describe(const ConfigChoice& choice) {
  switch (choice.origin) {
    case ConfigChoice::Origin::option:
      return "--config " + choice.path.string();
    case ConfigChoice::Origin::environment:
      return std::string("$") + kConfigEnvironment + " (" + choice.path.string() + ")";
    case ConfigChoice::Origin::system:
      return choice.path.string();
    case ConfigChoice::Origin::embedded:
      break;
  }
  return std::string("the embedded default (no --config, no $") + kConfigEnvironment + ", no " +
         kSystemConfig + ")";
}

std::optional<FoundConfig> find_config(std::string_view who, const std::string& option_value) {
  FoundConfig found;
  found.choice = choose_config(option_value);
  if (found.choice.origin == ConfigChoice::Origin::embedded) {
    found.config = config::embedded_default(std::filesystem::current_path());
    return found;
  }
  const std::filesystem::path& path = found.choice.path;
  auto loaded = config::load_file(path);
  if (!loaded.config) {
    for (const auto& p : loaded.problems) {
      if (p.severity != config::Problem::Severity::error) continue;
      std::cerr << who << ": " << p.where << ": " << p.message << "\n";
    }
    std::cerr << who << ": cannot use " << describe(found.choice) << " (`postern check --config "
              << path.string() << "` explains)\n";
    return std::nullopt;
  }
  found.config = std::move(*loaded.config);
  return found;
}

}  // namespace postern::cli
