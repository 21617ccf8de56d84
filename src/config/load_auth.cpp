#include "config/loader.hpp"

namespace postern::config {

void Loader::load_auth(const toml::table& root) {
  const toml::table* t = get_table(root, "auth");
  if (t) {
    check_keys(*t, "auth", kAuthKeys);
    if (auto u = get_string(*t, "users_file", "auth.users_file", "\"/etc/postern/users\"")) {
      if (!u->empty()) config_.auth.users_file = resolve(*u);
    }
  }
  if (config_.auth.users_file.empty()) config_.auth.users_file = config_.data_dir / "users";
}

}  // namespace postern::config
