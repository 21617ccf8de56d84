#include "config/loader.hpp"

namespace postern::config {

// user = "postern" (SPEC §1.11): who the server becomes after binding its
// ports when started as root. Whether the user exists is a lint (the file
// may be checked on another machine than the one it runs on).
void Loader::load_service(const toml::table& root) {
  auto user = get_string(root, "user", "user", "\"postern\"");
  if (!user) return;
  if (user->empty() || user->find_first_of(" \t:/") != std::string::npos) {
    error(config_.lines["user"], "user \"" + *user + "\" is not a user name",
          "name a system user, e.g. user = \"postern\" (create it with `useradd --system "
          "--home-dir /var/lib/postern --shell /usr/sbin/nologin postern`)");
    return;
  }
  config_.user = *user;
}

}  // namespace postern::config
