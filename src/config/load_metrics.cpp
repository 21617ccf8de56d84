#include "config/host_port.hpp"
#include "config/loader.hpp"

namespace postern::config {

// [metrics] address = "127.0.0.1:9325" (SPEC §1.11): where the Prometheus
// exposition is served; absent means off.
void Loader::load_metrics(const toml::table& root) {
  const toml::table* t = get_table(root, "metrics");
  if (!t) return;
  check_keys(*t, "metrics", kMetricsKeys);
  auto address = get_string(*t, "address", "metrics.address", "\"127.0.0.1:9325\"");
  if (!address) return;
  const int line = config_.lines["metrics.address"];
  std::string why;
  auto hp = parse_host_port(*address, why);
  if (!hp) {
    error(line, "[metrics] address \"" + *address + "\" cannot be parsed: " + why,
          "write \"host:port\", e.g. address = \"127.0.0.1:9325\"");
    return;
  }
  if (!is_ip_literal(hp->host)) {
    error(line, "[metrics] address \"" + *address + "\": \"" + hp->host + "\" is not an IP address",
          "listen on an IP address, e.g. \"127.0.0.1:" + std::to_string(hp->port) +
              "\" (loopback: only this machine's Prometheus can scrape)");
    return;
  }
  config_.metrics.address = *address;
  config_.metrics.host = hp->host;
  config_.metrics.port = hp->port;
}

}  // namespace postern::config
