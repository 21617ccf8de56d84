// Where every subcommand finds its configuration, in one order (as Postfix's
// commands all read main.cf from one place): --config, then the
// POSTERN_CONFIG environment variable, then /etc/postern/postern.toml when
// it exists, then the embedded default rooted at the current directory.
// docs/command-line.md describes it for operators.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace postern::cli {

inline constexpr const char* kSystemConfig = "/etc/postern/postern.toml";
inline constexpr const char* kConfigEnvironment = "POSTERN_CONFIG";

struct ConfigChoice {
  enum class Origin { option, environment, system, embedded };
  Origin origin = Origin::embedded;
  std::filesystem::path path;  // empty for the embedded default
};

// Decides without reading the file (only whether the system file exists).
ConfigChoice choose_config(const std::string& option_value);

// "--config /x/postern.toml", "$POSTERN_CONFIG (/x/postern.toml)",
// "/etc/postern/postern.toml", "the embedded default (no --config, no
// $POSTERN_CONFIG, no /etc/postern/postern.toml)".
std::string describe(const ConfigChoice& choice);

struct FoundConfig {
  config::Config config;
  ConfigChoice choice;
};

// Registers `--config,-c FILE` on a subcommand, with one help text:
// "Configuration file (TOML)", then `use` (what this command reads from it,
// when that needs saying), then where it looks without the option:
// `lookup`, which is the order above unless the command differs.
inline constexpr std::string_view kConfigLookup =
    "default: $POSTERN_CONFIG, /etc/postern/postern.toml, else the embedded default";
CLI::Option* add_config_option(CLI::App& command, std::string& path, std::string_view use = {},
                               std::string_view lookup = kConfigLookup);

// Chooses and loads. On a configuration with errors prints them, prefixed
// with `who`, with the command that explains them, and returns nullopt.
std::optional<FoundConfig> find_config(std::string_view who, const std::string& option_value);

}  // namespace postern::cli
