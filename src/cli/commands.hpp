// Each subcommand lives in its own file and adds itself to the CLI11 app.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace postern::cli {

struct Command {
  CLI::App* app = nullptr;   // the subcommand, to know whether it was chosen
  std::function<int()> run;  // runs it; returns the exit status
};

Command add_serve(CLI::App& app);
Command add_check(CLI::App& app);
Command add_user(CLI::App& app);
Command add_queue(CLI::App& app);
Command add_sendmail(CLI::App& app);
Command add_probe(CLI::App& app);
Command add_send(CLI::App& app);
Command add_config(CLI::App& app);
Command add_log(CLI::App& app);
Command add_dkim(CLI::App& app);
Command add_dns(CLI::App& app);

}  // namespace postern::cli
