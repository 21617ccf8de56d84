// Where addresses go, printed for operators: `postern addresses show` and
// `postern sendmail -bv` (SPEC §1.9). Reads the users file, the aliases
// file and the SRS secret the way the server does.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace postern::cli {

// Prints, for each address, the mailboxes and remote targets it reaches and
// the reason at each step. Returns 0 when every address is deliverable, 67
// (EX_NOUSER) when one is not, 78 when the address files do not load.
// The address book's problems as `postern check` lints (SPEC §1.9): alias
// loops and too deep chains, aliases to unknown local users, catch-alls of
// domains that are not local, the SRS secret missing or readable by others,
// aliases file syntax (file:line).
std::vector<config::Problem> address_lints(const config::Config& config);

int report_addresses(const config::Config& config, const std::vector<std::string>& addresses,
                     std::ostream& out, std::ostream& err);

}  // namespace postern::cli
