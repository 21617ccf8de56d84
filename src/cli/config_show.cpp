// `postern config [--config FILE] [-n]`: prints the effective settings as
// TOML (Postfix's `postconf`; with -n only what the file sets, as
// `postconf -n`). Secrets are not printed. Exit status: 0 printed, 1 the
// configuration cannot be used (its errors are printed), 2 usage.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "config/effective.hpp"

namespace postern::cli {
namespace {

struct ConfigShowOptions {
  std::string config_path;
  bool only_set = false;
};

int run_config_show(const ConfigShowOptions& o) {
  auto found = find_config("postern config", o.config_path);
  if (!found) return 1;
  std::cout << "# found through " << describe(found->choice) << "\n";
  config::EffectiveOptions options;
  options.only_set = o.only_set;
  std::cout << config::render_effective(found->config, options);
  return 0;
}

}  // namespace

Command add_config(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "config", "Print the effective settings (as postconf; -n: only those the file sets)");
  auto options = std::make_shared<ConfigShowOptions>();
  add_config_option(*sub, options->config_path);
  sub->add_flag("-n,--non-default", options->only_set,
                "Only the settings the file sets (postconf -n)");
  return {sub, [options] { return run_config_show(*options); }};
}

}  // namespace postern::cli
