// The effective settings as TOML (what `postern config` prints, Postfix's
// `postconf` and `postconf -n`): every key with the value postern uses,
// defaults included and marked, so an operator sees what runs rather than
// what the file happens to say. Secrets are never printed: an inline
// smarthost password shows as set, not as its value.
#pragma once

#include <string>

#include "config/config.hpp"

namespace postern::config {

struct EffectiveOptions {
  // Only the keys the file sets (postconf -n); listeners are always shown.
  bool only_set = false;
};

std::string render_effective(const Config& config, const EffectiveOptions& options = {});

}  // namespace postern::config
