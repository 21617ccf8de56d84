// [state] url (SPEC §1.10): shared counters in Redis. The URL is checked
// here; whether Redis answers is `postern check`'s (a warning: the server
// runs without it, on in-process counters).
#include "config/loader.hpp"
#include "config/redis_url.hpp"

namespace postern::config {

void Loader::load_state(const toml::table& root) {
  const toml::table* t = get_table(root, "state");
  if (!t) return;
  check_keys(*t, "state", kStateKeys);
  auto url = get_string(*t, "url", "state.url", "\"redis://127.0.0.1:6379/0\"");
  if (!url || url->empty()) return;
  auto parsed = parse_redis_url(*url);
  if (!parsed.url) {
    error(config_.lines["state.url"], "[state] url: " + parsed.error,
          "write url = \"redis://host:port/db\", e.g. \"redis://127.0.0.1:6379/0\", or remove it "
          "to keep the counters in this process");
    return;
  }
  config_.state.url = *url;
}

}  // namespace postern::config
