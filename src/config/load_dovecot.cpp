// [auth] backend and dovecot_auth_socket, [delivery] local: Dovecot as the
// neighbour (SPEC §1.12, docs/dovecot.md).
#include "config/loader.hpp"
#include "config/local_target.hpp"

namespace postern::config {

void Loader::load_dovecot(const toml::table& root) {
  if (const toml::table* a = get_table(root, "auth")) {
    if (auto b = get_choice(*a, "backend", "auth.backend", {"file", "dovecot"},
                            "\"file\" checks users_file; \"dovecot\" asks Dovecot's auth "
                            "socket (dovecot_auth_socket)")) {
      config_.auth.backend = *b;
    }
    if (auto s = get_string(*a, "dovecot_auth_socket", "auth.dovecot_auth_socket",
                            "\"/run/dovecot/auth-client\"")) {
      if (!s->empty()) config_.auth.dovecot_auth_socket = resolve(*s);
    }
  }
  if (config_.auth.backend == "dovecot" && config_.auth.dovecot_auth_socket.empty()) {
    error(config_.lines["auth.backend"], "auth.backend = \"dovecot\" needs dovecot_auth_socket",
          "add dovecot_auth_socket = \"/run/dovecot/auth-client\" (the unix_listener of "
          "Dovecot's service auth) to [auth], or set backend = \"file\"");
  }
  const toml::table* d = get_table(root, "delivery");
  if (!d) return;
  if (auto l = get_string(*d, "local", "delivery.local", "\"lmtp:unix:/run/dovecot/lmtp\"")) {
    std::string why;
    auto target = parse_local_target(*l, why);
    if (!target) {
      error(config_.lines["delivery.local"], "delivery.local \"" + *l + "\" cannot be used: " + why,
            "write \"maildir\" (the default), \"lmtp:unix:/run/dovecot/lmtp\" or "
            "\"lmtp:127.0.0.1:24\"");
      return;
    }
    if (target->kind == LocalTarget::Kind::lmtp_unix) {
      target->socket = resolve(target->socket.string());
    }
    config_.delivery.local = target->text();
  }
}

}  // namespace postern::config
