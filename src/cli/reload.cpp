// `postern reload [--config FILE]`: what SIGHUP does, but synchronous. The
// running server (found through FILE's data_dir/control.sock) reloads the
// file it was started with and answers whether the new configuration is in
// place, or why it was refused (every file:line error). systemd's
// ExecReload runs this, so `systemctl reload postern` fails visibly.
//
// Exit status: 0 applied, 1 refused (the old configuration keeps running),
// 75 no server answers (EX_TEMPFAIL).
#include <iostream>
#include <memory>
#include <string_view>

#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "cli/control_target.hpp"
#include "control/control_client.hpp"
#include "control/control_protocol.hpp"

namespace postern::cli {
namespace {

constexpr int kExitApplied = 0;
constexpr int kExitRefused = 1;
constexpr int kExitNotRunning = 75;
// A reload reads the configuration and the certificate and may hash
// nothing: seconds at most, even on a loaded machine.
constexpr std::chrono::seconds kReloadTimeout{60};

// The server joins several sentences with " | " on its one response line.
void print_lines(std::ostream& out, std::string_view text) {
  for (;;) {
    const std::size_t bar = text.find(" | ");
    out << "postern reload: " << text.substr(0, bar) << "\n";
    if (bar == std::string_view::npos) return;
    text.remove_prefix(bar + 3);
  }
}

int run_reload(const std::string& config_path) {
  auto config = load_target_config("postern reload", config_path);
  if (!config) return kExitRefused;
  const auto result = control::call(control_socket(*config), "RELOAD\n", kReloadTimeout);
  switch (result.status) {
    case control::CallResult::Status::not_running:
      std::cerr << "postern reload: " << not_running_text(*config) << "\n";
      return kExitNotRunning;
    case control::CallResult::Status::failed:
      std::cerr << "postern reload: " << result.error << "\n";
      return kExitNotRunning;
    case control::CallResult::Status::answered:
      break;
  }
  if (!result.response.ok) {
    print_lines(std::cerr, result.response.text);
    return kExitRefused;
  }
  print_lines(std::cout, result.response.text);
  return kExitApplied;
}

}  // namespace

Command add_reload(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "reload", "Reload the running server's configuration, like SIGHUP, and report the result");
  auto config_path = std::make_shared<std::string>();
  add_config_option(*sub, *config_path, "to find the running server's data_dir");
  return {sub, [config_path]() -> int { return run_reload(*config_path); }};
}

}  // namespace postern::cli
