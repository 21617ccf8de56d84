#include "config/loader.hpp"

namespace postern::config {

void Loader::load_spool(const toml::table& root) {
  const toml::table* t = get_table(root, "spool");
  if (!t) return;
  check_keys(*t, "spool", kSpoolKeys);
  if (auto b = get_bool(*t, "unsafe_ack_before_fsync", "spool.unsafe_ack_before_fsync")) {
    config_.unsafe_ack_before_fsync = *b;
  }
}

}  // namespace postern::config
