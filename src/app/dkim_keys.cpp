#include "app/dkim_keys.hpp"

#include "obs/log.hpp"

namespace postern::app {

std::shared_ptr<const mailauth::OutgoingSigner> outgoing_signer(const config::Config& config) {
  std::vector<mailauth::dkim::SigningKey> keys;
  for (const config::DkimConfig& d : config.dkim) {
    if (!d.private_key) continue;  // never in a loaded Config
    keys.push_back({d.domain, d.selector, *d.private_key});
    obs::event("dkim", "domain={} selector={} algorithm={} key={}", d.domain, d.selector,
               mailauth::dkim::to_string(d.private_key->algorithm()), d.key.string());
  }
  return std::make_shared<const mailauth::OutgoingSigner>(std::move(keys));
}

}  // namespace postern::app
