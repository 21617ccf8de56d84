// postern: SMTP transfer and submission agent. main only wires the
// subcommands; each lives in src/cli/.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <vector>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"postern: a mail server whose ports keep their purpose"};
  app.require_subcommand(1);
  const std::vector<postern::cli::Command> commands = {
      postern::cli::add_serve(app),
      postern::cli::add_check(app),
      postern::cli::add_user(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
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
