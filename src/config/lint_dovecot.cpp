// `postern check` for Dovecot as the neighbour (SPEC §1.12): the sockets
// postern will talk to exist and are sockets. A missing socket is a warning
// (Dovecot may simply not be started yet, e.g. during a package install);
// a path that is something else than a socket is an error (a typo pointing
// at a directory or at Dovecot's configuration file).
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "config/lint_rules.hpp"
#include "config/local_target.hpp"

namespace postern::config {
namespace {

void check_socket(const Config& config, const std::string& key, const std::filesystem::path& path,
                  std::string_view what, std::string_view consequence, std::vector<Problem>& out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    out.push_back(warning_at(config.where(key),
                             std::string(what) + " " + path.string() + " does not exist (" +
                                 std::strerror(err) + "); " + std::string(consequence),
                             "start Dovecot, or point " + key +
                                 " at the path of its unix_listener (doveconf -n "
                                 "shows them)"));
    return;
  }
  if (!S_ISSOCK(st.st_mode)) {
    out.push_back(error_at(config.where(key),
                           std::string(what) + " " + path.string() + " is not a socket",
                           "point " + key +
                               " at the unix_listener Dovecot creates (doveconf -n shows "
                               "them), not at a file or directory"));
  }
}

// Dovecot's own layout, as dovecot::userdb_socket_beside() (kept here
// without the dependency: config does not link the Dovecot client).
std::filesystem::path userdb_beside(const std::filesystem::path& auth_socket) {
  const std::string name = auth_socket.filename().string();
  if (name == "auth-client") return auth_socket.parent_path() / "auth-userdb";
  return auth_socket.parent_path() / (name + "-userdb");
}

}  // namespace

void lint_dovecot(const Config& config, std::vector<Problem>& out) {
  if (config.auth.backend == "dovecot" && !config.auth.dovecot_auth_socket.empty()) {
    const auto& socket = config.auth.dovecot_auth_socket;
    check_socket(config, "auth.dovecot_auth_socket", socket, "Dovecot auth socket",
                 "AUTH will answer 454 until it appears", out);
    check_socket(config, "auth.dovecot_auth_socket", userdb_beside(socket),
                 "Dovecot userdb socket (beside the auth socket)",
                 "RCPT to local domains will answer 451 until it appears", out);
  }
  // The credential cache is the users file's (SPEC §1.10); Dovecot keeps
  // its own (auth_cache_size), so the key does nothing there.
  if (config.auth.backend == "dovecot" && config.lines.count("auth.cache_ttl")) {
    out.push_back(warning_at(config.where("auth.cache_ttl"),
                             "auth.cache_ttl has no effect with backend = \"dovecot\": Dovecot "
                             "checks the passwords and caches them itself",
                             "remove cache_ttl, and set auth_cache_size (and auth_cache_ttl) in "
                             "Dovecot's configuration instead"));
  }
  std::string why;
  if (auto target = parse_local_target(config.delivery.local, why);
      target && target->kind == LocalTarget::Kind::lmtp_unix) {
    check_socket(config, "delivery.local", target->socket, "LMTP socket",
                 "local mail stays queued until it appears", out);
  }
}

}  // namespace postern::config
