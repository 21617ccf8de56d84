#include "config/loader.hpp"

#include "config/host_port.hpp"

namespace postern::config {

void Loader::load_listeners(const toml::table& root) {
  const toml::node* n = find(root, "listener");
  if (!n) {
    error(0, "no [[listener]] is configured; postern would accept no connections",
          "add one [[listener]] per port, e.g.\n        [[listener]]\n        address = "
          "\"0.0.0.0:587\"\n        role = \"submission\"\n        tls = "
          "\"starttls-required\"");
    return;
  }
  const auto* arr = n->as_array();
  if (!arr || !arr->is_array_of_tables()) {
    error(line_of(*n), "listener must be an array of tables, found " + std::string(type_name(*n)),
          "write each listener as its own [[listener]] section (double brackets)");
    return;
  }
  for (const auto& item : *arr) {
    const auto& t = *item.as_table();
    load_listener(t, line_of(t));
  }
}

void Loader::load_listener(const toml::table& t, int table_line) {
  check_keys(t, "listener", kListenerKeys);
  ListenerConfig l;
  l.line = table_line;
  bool ok = true;
  const auto address = get_listener_string(t, "address", "\"0.0.0.0:587\"", ok);
  if (address) {
    const int line = line_of(*find(t, "address"));
    l.line = line;
    std::string why;
    if (auto hp = parse_host_port(*address, why)) {
      if (!is_ip_literal(hp->host)) {
        error(line,
              "listener address \"" + *address + "\": \"" + hp->host + "\" is not an IP address",
              "listen on an IP address: \"0.0.0.0:" + std::to_string(hp->port) +
                  "\" (all IPv4), \"[::]:" + std::to_string(hp->port) +
                  "\" (all IPv6) or \"127.0.0.1:" + std::to_string(hp->port) + "\" (loopback)");
        ok = false;
      } else {
        l.address = *address;
        l.host = hp->host;
        l.port = hp->port;
      }
    } else {
      error(line, "listener address \"" + *address + "\" cannot be parsed: " + why,
            "write \"host:port\" or \"[ipv6]:port\", e.g. \"0.0.0.0:587\" or \"[::]:587\"");
      ok = false;
    }
  } else if (!find(t, "address")) {
    error(table_line, "listener has no address",
          "add address = \"0.0.0.0:587\" (host:port) to this [[listener]]");
    ok = false;
  }

  const std::string hint = l.port ? port_hint(l.port) : port_hint(0);
  if (auto role = get_listener_string(t, "role", "\"submission\"", ok)) {
    if (auto r = parse_role(*role)) {
      l.role = *r;
    } else {
      error(line_of(*find(t, "role")), "unknown listener role \"" + *role + "\"",
            "role must be \"relay\" (other servers deliver to us) or \"submission\" (our "
            "users send, with AUTH)");
      ok = false;
    }
  } else if (!find(t, "role")) {
    error(l.line,
          "listener " + (l.address.empty() ? std::string("") : l.address + " ") + "has no role",
          "add role = \"relay\" or role = \"submission\"; usual for this port: " + hint);
    ok = false;
  }

  if (auto tls = get_listener_string(t, "tls", "\"starttls-required\"", ok)) {
    if (auto m = parse_tls_mode(*tls)) {
      l.tls = *m;
    } else {
      error(line_of(*find(t, "tls")), "unknown listener tls mode \"" + *tls + "\"",
            "tls must be one of \"none\", \"starttls\", \"starttls-required\", "
            "\"implicit\"; usual for this port: " +
                hint);
      ok = false;
    }
  } else if (!find(t, "tls")) {
    error(l.line,
          "listener " + (l.address.empty() ? std::string("") : l.address + " ") + "has no tls mode",
          "add tls = \"none\", \"starttls\", \"starttls-required\" or \"implicit\"; usual for "
          "this port: " +
              hint);
    ok = false;
  }

  if (const toml::node* n = find(t, "insecure")) {
    if (const auto* b = n->as_boolean()) {
      l.insecure = b->get();
    } else {
      error(line_of(*n),
            "listener insecure must be true or false, found " + std::string(type_name(*n)),
            "write insecure = true (without quotes), or remove the line");
      ok = false;
    }
  }
  if (!ok) return;

  const std::string key = canonical_ip(l.host) + "|" + std::to_string(l.port);
  for (const auto& other : config_.listeners) {
    if (canonical_ip(other.host) + "|" + std::to_string(other.port) == key) {
      error(l.line,
            "listener " + l.address + " duplicates the listener at line " +
                std::to_string(other.line),
            "each address:port can be listened on once; remove one of them or change its "
            "port");
      return;
    }
  }
  config_.listeners.push_back(std::move(l));
}

std::optional<std::string> Loader::get_listener_string(const toml::table& t, std::string_view key,
                                                       std::string_view example, bool& ok) {
  const toml::node* n = find(t, key);
  if (!n) return std::nullopt;
  if (const auto* s = n->as_string()) return s->get();
  error(line_of(*n),
        "listener " + std::string(key) + " must be a string, found " + std::string(type_name(*n)),
        "write it in double quotes, e.g. " + std::string(key) + " = " + std::string(example));
  ok = false;
  return std::nullopt;
}

}  // namespace postern::config
