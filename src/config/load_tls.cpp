#include "config/loader.hpp"

namespace postern::config {

void Loader::load_tls(const toml::table& root) {
  const toml::table* t = get_table(root, "tls");
  if (t) {
    check_keys(*t, "tls", kTlsKeys);
    if (auto c = get_string(*t, "cert", "tls.cert", "\"/etc/postern/fullchain.pem\"")) {
      if (!c->empty()) config_.tls.cert = resolve(*c);
    }
    if (auto k = get_string(*t, "key", "tls.key", "\"/etc/postern/privkey.pem\"")) {
      if (!k->empty()) config_.tls.key = resolve(*k);
    }
  }
  // Defaults live inside data_dir, where the embedded default generates them.
  if (config_.tls.cert.empty()) config_.tls.cert = config_.data_dir / "tls" / "cert.pem";
  if (config_.tls.key.empty()) config_.tls.key = config_.data_dir / "tls" / "key.pem";
}

}  // namespace postern::config
