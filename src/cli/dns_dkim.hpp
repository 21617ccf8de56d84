// The DKIM records `postern dns` prints and checks: one per [[dkim]] key of
// the domain, its TXT value computed from the private key file.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "dns_records/server_identity.hpp"

namespace postern::cli {

// A key that cannot be read adds a note saying why instead of a record.
std::vector<dns_records::DkimPublication> dkim_publications(const config::Config& config,
                                                            const std::string& domain,
                                                            std::vector<std::string>& notes);

}  // namespace postern::cli
