// A configuration whose certificate and key both live under data_dir and do
// not exist yet gets a self-signed pair generated on the first start, as the
// embedded default does; so the TOML that `postern check --print-default`
// prints works once saved to a file. A certificate anywhere else is the
// operator's (certbot, a CA) and is never generated over.
#pragma once

#include "config/config.hpp"

namespace postern::config {

bool certificate_generated_on_start(const Config& config);

}  // namespace postern::config
