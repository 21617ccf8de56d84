#include "config/loader.hpp"

namespace postern::config {

void Loader::load_auth(const toml::table& root) {
  const toml::table* t = get_table(root, "auth");
  if (t) {
    check_keys(*t, "auth", kAuthKeys);
    if (auto u = get_string(*t, "users_file", "auth.users_file", "\"/etc/postern/users\"")) {
      if (!u->empty()) config_.auth.users_file = resolve(*u);
    }
    // Up to a day: longer and a password changed outside postern (another
    // node's users file) would be honoured stale for too long.
    if (auto d = get_duration(*t, "cache_ttl", "auth.cache_ttl", std::chrono::seconds(0),
                              std::chrono::hours(24), "\"15m\"")) {
      config_.auth.cache_ttl = *d;
    }
  }
  if (config_.auth.users_file.empty()) config_.auth.users_file = config_.data_dir / "users";
}

}  // namespace postern::config
