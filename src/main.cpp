// postern: SMTP transfer and submission agent. main only wires the
// subcommands; each lives in src/cli/, and usage errors are handled the same
// way for all of them (cli/usage.hpp).
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.hpp"
#include "cli/usage.hpp"

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

namespace {

// Invoked through a link with a Postfix program's name, the binary behaves
// as the postern command that does that program's job: `sendmail` (as
// /usr/sbin/sendmail, which applications call) is `postern sendmail`, and
// `mailq` is `postern queue list` (docs/command-line.md).
std::vector<char*> link_name_argv(int argc, char** argv) {
  std::vector<char*> out(argv, argv + argc);
  const std::string_view name = argc > 0 ? std::string_view(argv[0]) : std::string_view();
  const std::size_t slash = name.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  static char sendmail[] = "sendmail";
  static char queue[] = "queue";
  static char list[] = "list";
  if (argc > 0 && base == "sendmail") out.insert(out.begin() + 1, sendmail);
  if (argc > 0 && base == "mailq") out.insert(out.begin() + 1, {queue, list});
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = link_name_argv(argc, argv);
  argc = static_cast<int>(args.size());
  argv = args.data();
  CLI::App app{"postern: a mail server whose ports keep their purpose"};
  app.name("postern");
  app.set_version_flag("--version", std::string("postern ") + POSTERN_VERSION);
  app.require_subcommand(1);
  const std::vector<postern::cli::Command> commands = {
      postern::cli::add_serve(app),  postern::cli::add_check(app), postern::cli::add_config(app),
      postern::cli::add_user(app),   postern::cli::add_queue(app), postern::cli::add_sendmail(app),
      postern::cli::add_probe(app),  postern::cli::add_send(app),  postern::cli::add_log(app),
      postern::cli::add_dkim(app),   postern::cli::add_dns(app),   postern::cli::add_addresses(app),
      postern::cli::add_reload(app),
  };
  if (const auto status = postern::cli::parse_command_line(app, argc, argv)) return *status;
  try {
    for (const auto& command : commands) {
      if (command.app->parsed()) return command.run();
    }
  } catch (const std::exception& e) {
    std::cerr << "postern: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
