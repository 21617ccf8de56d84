// `postern addresses show ADDRESS... [--config F]`: which mailboxes and
// remote targets an address reaches and why (user, alias, plus-tag, role,
// catch-all, SRS): the question operators ask most (docs/addresses.md).
#include <iostream>
#include <memory>

#include "cli/address_report.hpp"
#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "cli/control_target.hpp"

namespace postern::cli {

Command add_addresses(CLI::App& app) {
  auto* sub =
      app.add_subcommand("addresses", "where addresses go: users, aliases, catch-alls, SRS");
  sub->require_subcommand(1);
  auto* show =
      sub->add_subcommand("show", "print the mailboxes and remote targets of ADDRESS, and why");
  auto config_path = std::make_shared<std::string>();
  auto list = std::make_shared<std::vector<std::string>>();
  show->add_option("address", *list, "addresses (a bare name gets the default domain)")->required();
  add_config_option(*show, *config_path);
  return {sub, [config_path, list] {
            auto config = load_target_config("postern addresses", *config_path);
            if (!config) return 78;
            return report_addresses(*config, *list, std::cout, std::cerr);
          }};
}

}  // namespace postern::cli
