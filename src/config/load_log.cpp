#include "config/loader.hpp"

namespace postern::config {

void Loader::load_log(const toml::table& root) {
  const toml::table* t = get_table(root, "log");
  if (!t) return;
  check_keys(*t, "log", kLogKeys);
  if (auto target = get_string(*t, "target", "log.target", "\"stderr\"")) {
    if (*target != "stderr" && *target != "syslog") {
      error(config_.lines["log.target"], "unknown log target \"" + *target + "\"",
            "target must be \"stderr\" or \"syslog\" (facility mail)");
    } else {
      config_.log.target = *target;
    }
  }
}

}  // namespace postern::config
