// postern: SMTP transfer and submission agent. main only wires the
// subcommands; each lives in src/cli/.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.hpp"

namespace {

// Invoked through a link named `sendmail` (as /usr/sbin/sendmail), the
// binary behaves as `postern sendmail`, which is what applications call.
std::vector<char*> sendmail_argv(int argc, char** argv) {
  std::vector<char*> out(argv, argv + argc);
  const std::string_view name = argc > 0 ? std::string_view(argv[0]) : std::string_view();
  const std::size_t slash = name.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  if (argc > 0 && base == "sendmail") {
    static char subcommand[] = "sendmail";
    out.insert(out.begin() + 1, subcommand);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = sendmail_argv(argc, argv);
  argc = static_cast<int>(args.size());
  argv = args.data();
  CLI::App app{"postern: a mail server whose ports keep their purpose"};
  app.require_subcommand(1);
  const std::vector<postern::cli::Command> commands = {
      postern::cli::add_serve(app), postern::cli::add_check(app),    postern::cli::add_user(app),
      postern::cli::add_queue(app), postern::cli::add_sendmail(app), postern::cli::add_probe(app),
      postern::cli::add_send(app),  postern::cli::add_dkim(app),     postern::cli::add_dns(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    // sendmail callers read sysexits.h codes: EX_USAGE.
    if (status != 0 && argc > 1 && std::string_view(argv[1]) == "sendmail") return 64;
    // probe, send and dns document 2 for usage errors; their other codes
    // name the failing stage (docs/troubleshooting.md, docs/dns.md), so
    // CLI11's 10x must not leak.
    if (status != 0 && argc > 1 &&
        (std::string_view(argv[1]) == "probe" || std::string_view(argv[1]) == "send" ||
         std::string_view(argv[1]) == "dns"))
      return 2;
    return status;
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
