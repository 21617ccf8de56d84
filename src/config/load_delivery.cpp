#include "config/loader.hpp"

#include <algorithm>

#include "config/host_port.hpp"

namespace postern::config {

void Loader::load_delivery(const toml::table& root) {
  const toml::table* t = get_table(root, "delivery");
  if (!t) return;
  check_keys(*t, "delivery", kDeliveryKeys);
  DeliveryConfig& d = config_.delivery;
  if (auto r = get_string(*t, "resolver", "delivery.resolver", "\"127.0.0.1:53\"")) {
    std::string why;
    auto hp = parse_host_port(*r, why);
    if (hp && !is_ip_literal(hp->host)) why = "\"" + hp->host + "\" is not an IP address";
    if (!hp || !is_ip_literal(hp->host)) {
      error(config_.lines["delivery.resolver"],
            "delivery.resolver \"" + *r + "\" cannot be used: " + why,
            "write the DNS server as \"ip:port\", e.g. \"127.0.0.1:53\" or \"[::1]:53\", or "
            "remove it to use the system resolver");
    } else {
      d.resolver = *r;
    }
  }
  if (auto p = get_int(*t, "remote_port", "delivery.remote_port", 1, 65535)) {
    d.remote_port = static_cast<std::uint16_t>(*p);
  }
  if (auto v = get_choice(*t, "tls", "delivery.tls", {"opportunistic", "required"},
                          "\"opportunistic\" uses STARTTLS whenever the MX offers it; "
                          "\"required\" never sends without TLS")) {
    d.tls = *parse_tls_policy(*v);
  }
  if (auto b = get_bool(*t, "tls_fallback_plaintext", "delivery.tls_fallback_plaintext")) {
    d.tls_fallback_plaintext = *b;
  }
  load_tls_policy(*t);
  load_smarthost(*t);
  load_delivery_timing(*t);
}

// [delivery.tls_policy] "example.org" = "required": per recipient domain.
void Loader::load_tls_policy(const toml::table& delivery) {
  const toml::node* n = find(delivery, "tls_policy");
  if (!n) return;
  note_line("delivery.tls_policy", *n);
  const auto* t = n->as_table();
  if (!t) {
    error(line_of(*n), "delivery.tls_policy must be a table, found " + std::string(type_name(*n)),
          "write it as a [delivery.tls_policy] section of lines \"example.org\" = \"required\"");
    return;
  }
  for (auto&& [key, value] : *t) {
    const int line = static_cast<int>(key.source().begin.line);
    std::string domain = ascii_lower(key.str());
    if (!domain.empty() && domain.back() == '.') domain.pop_back();
    if (!is_hostname(domain)) {
      error(line, "delivery.tls_policy key \"" + std::string(key.str()) + "\" is not a domain name",
            "write one recipient domain per line, in quotes: \"example.org\" = \"required\"");
      continue;
    }
    const auto* s = value.as_string();
    if (!s || (s->get() != "required" && s->get() != "opportunistic")) {
      error(line,
            "delivery.tls_policy \"" + domain + "\" must be \"required\" or \"opportunistic\"" +
                (s ? ", found \"" + s->get() + "\"" : ", found " + std::string(type_name(value))),
            "write \"" + domain + "\" = \"required\" (never deliver to it without TLS) or \"" +
                domain + "\" = \"opportunistic\"");
      continue;
    }
    config_.lines["delivery.tls_policy." + domain] = line;
    config_.delivery.tls_policy[domain] = *parse_tls_policy(s->get());
  }
}

void Loader::load_smarthost(const toml::table& t) {
  DeliveryConfig& d = config_.delivery;
  if (auto s = get_string(t, "smarthost", "delivery.smarthost", "\"smtp.provider.example:587\"")) {
    std::string why;
    auto hp = parse_host_port(*s, why);
    if (hp && !is_ip_literal(hp->host) && !is_hostname(hp->host)) {
      why = "\"" + hp->host + "\" is not a host name";
      hp.reset();
    }
    if (!hp) {
      error(config_.lines["delivery.smarthost"],
            "delivery.smarthost \"" + *s + "\" cannot be used: " + why,
            "write \"host:port\", e.g. \"smtp.provider.example:587\"");
    } else {
      d.smarthost = *s;
    }
  }
  if (auto v =
          get_choice(t, "smarthost_tls", "delivery.smarthost_tls", {"starttls", "implicit", "none"},
                     "\"starttls\" for 587 and 2525, \"implicit\" for 465, \"none\" only "
                     "for an internal relay hub")) {
    d.smarthost_tls = *parse_tls_mode(*v);
  }
  if (auto u =
          get_string(t, "smarthost_user", "delivery.smarthost_user", "\"relay@example.com\"")) {
    if (u->empty()) {
      error(config_.lines["delivery.smarthost_user"], "delivery.smarthost_user is empty",
            "set the user name the provider gave you, or remove the line to send without "
            "AUTH");
    } else {
      d.smarthost_user = *u;
    }
  }
  if (auto p = get_string(t, "smarthost_password", "delivery.smarthost_password", "\"secret\"")) {
    d.smarthost_password = *p;
  }
  if (auto f = get_string(t, "smarthost_password_file", "delivery.smarthost_password_file",
                          "\"/etc/postern/smarthost-password\"")) {
    if (f->empty()) {
      error(config_.lines["delivery.smarthost_password_file"],
            "delivery.smarthost_password_file is empty",
            "name a file whose first line is the password, or remove the line");
    } else {
      d.smarthost_password_file = resolve(*f);
    }
  }
  if (auto f = get_string(t, "smarthost_ca_file", "delivery.smarthost_ca_file",
                          "\"/etc/postern/provider-ca.pem\"")) {
    if (f->empty()) {
      error(config_.lines["delivery.smarthost_ca_file"], "delivery.smarthost_ca_file is empty",
            "name a PEM file of CA certificates, or remove the line to trust the system store");
    } else {
      d.smarthost_ca_file = resolve(*f);
    }
  }
  load_fallback_ports(t);
}

void Loader::load_fallback_ports(const toml::table& t) {
  const toml::node* n = find(t, "fallback_ports");
  if (!n) return;
  note_line("delivery.fallback_ports", *n);
  const std::string fix =
      "write the ports in the order to try them, e.g. fallback_ports = "
      "[2525, 465] (whole numbers from 1 to 65535, without quotes)";
  const auto* arr = n->as_array();
  if (!arr) {
    error(line_of(*n),
          "delivery.fallback_ports must be an array of ports, found " + std::string(type_name(*n)),
          fix);
    return;
  }
  std::vector<std::uint16_t> ports;
  bool ok = true;
  for (const auto& item : *arr) {
    const int line = line_of(item) > 0 ? line_of(item) : line_of(*n);
    const auto* i = item.as_integer();
    if (!i || i->get() < 1 || i->get() > 65535) {
      error(line,
            "delivery.fallback_ports entry " +
                (i ? std::to_string(i->get()) : std::string(type_name(item))) + " is not a port",
            fix);
      ok = false;
      continue;
    }
    const auto port = static_cast<std::uint16_t>(i->get());
    if (std::find(ports.begin(), ports.end(), port) != ports.end()) {
      error(line, "delivery.fallback_ports lists port " + std::to_string(port) + " twice",
            "list each port once, in the order to try them");
      ok = false;
      continue;
    }
    ports.push_back(port);
  }
  if (ok) config_.delivery.fallback_ports = std::move(ports);
}

void Loader::load_delivery_timing(const toml::table& t) {
  using std::chrono::seconds;
  DeliveryConfig& d = config_.delivery;
  constexpr seconds kDay{86400};
  if (auto v =
          get_duration(t, "retry_initial", "delivery.retry_initial", seconds(1), kDay, "\"1m\"")) {
    d.retry_initial = *v;
  }
  if (auto v = get_duration(t, "retry_max", "delivery.retry_max", seconds(1), kDay, "\"1h\"")) {
    d.retry_max = *v;
  }
  // RFC 5321 §4.5.4.1: give up after "at least 4-5 days"; up to 30 days
  // covers any operator's policy, and short lifetimes serve tests.
  if (auto v = get_duration(t, "max_queue_lifetime", "delivery.max_queue_lifetime", seconds(1),
                            30 * kDay, "\"5d\"")) {
    d.max_queue_lifetime = *v;
  }
  if (auto v = get_duration(t, "connect_timeout", "delivery.connect_timeout", seconds(1),
                            seconds(3600), "\"30s\"")) {
    d.connect_timeout = *v;
  }
  // RFC 5321 §4.5.3.2 suggests 5 to 10 minutes per command.
  if (auto v = get_duration(t, "command_timeout", "delivery.command_timeout", seconds(1),
                            seconds(3600), "\"5m\"")) {
    d.command_timeout = *v;
  }
  auto size = [](std::int64_t v) { return static_cast<std::size_t>(v); };
  if (auto v = get_int(t, "max_connections", "delivery.max_connections", 1, 100000)) {
    d.max_connections = size(*v);
  }
  if (auto v = get_int(t, "max_connections_per_destination",
                       "delivery.max_connections_per_destination", 1, 100000)) {
    d.max_connections_per_destination = size(*v);
  }
  if (d.max_connections_per_destination > d.max_connections &&
      config_.lines.count("delivery.max_connections_per_destination")) {
    error(config_.lines["delivery.max_connections_per_destination"],
          "delivery.max_connections_per_destination (" +
              std::to_string(d.max_connections_per_destination) +
              ") is larger than delivery.max_connections (" + std::to_string(d.max_connections) +
              ")",
          "make max_connections_per_destination at most max_connections");
  }
}

}  // namespace postern::config
