// TOML -> typed Config (SPEC §2). Every problem is collected, each with
// file:line and a fix, so the operator sees all of them in one run
// (OpenSMTPD habit); nothing stops at the first error.
#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <climits>

#include "config/config.hpp"
#include "config/duration.hpp"
#include "config/host_port.hpp"
#include "config/local_target.hpp"
#include "config/suggest.hpp"
#include "core/durable_file.hpp"

namespace postern::config {
namespace {

namespace fs = std::filesystem;
using namespace std::string_view_literals;

constexpr std::string_view kEmbeddedName = "<embedded default>";

// The schema: every key each table may hold. Anything else is a typo or a
// key in the wrong table, and is reported as such.
constexpr std::array kTopKeys = {"hostname"sv, "data_dir"sv, "local_domains"sv, "relay_networks"sv,
                                 "tls"sv,      "auth"sv,     "listener"sv,      "limits"sv,
                                 "delivery"sv, "log"sv,      "spool"sv};
constexpr std::array kTlsKeys = {"cert"sv, "key"sv};
constexpr std::array kAuthKeys = {"users_file"sv, "backend"sv, "dovecot_auth_socket"sv};
constexpr std::array kListenerKeys = {"address"sv, "role"sv, "tls"sv, "insecure"sv};
constexpr std::array kLimitsKeys = {"max_message_size"sv, "max_recipients"sv,      "idle_timeout"sv,
                                    "max_sessions"sv,     "max_sessions_per_ip"sv, "max_errors"sv};
constexpr std::array kDeliveryKeys = {"resolver"sv,
                                      "remote_port"sv,
                                      "tls"sv,
                                      "tls_fallback_plaintext"sv,
                                      "tls_policy"sv,
                                      "smarthost"sv,
                                      "smarthost_tls"sv,
                                      "smarthost_user"sv,
                                      "smarthost_password"sv,
                                      "smarthost_password_file"sv,
                                      "smarthost_ca_file"sv,
                                      "fallback_ports"sv,
                                      "retry_initial"sv,
                                      "retry_max"sv,
                                      "max_queue_lifetime"sv,
                                      "connect_timeout"sv,
                                      "command_timeout"sv,
                                      "max_connections"sv,
                                      "max_connections_per_destination"sv,
                                      "local"sv};
constexpr std::array kLogKeys = {"target"sv};
constexpr std::array kSpoolKeys = {"unsafe_ack_before_fsync"sv};

struct Section {
  std::string_view name;  // as written in the file: "tls", "listener"
  std::span<const std::string_view> keys;
};
constexpr std::array<Section, 7> kSections = {{{"tls", kTlsKeys},
                                               {"auth", kAuthKeys},
                                               {"listener", kListenerKeys},
                                               {"limits", kLimitsKeys},
                                               {"delivery", kDeliveryKeys},
                                               {"log", kLogKeys},
                                               {"spool", kSpoolKeys}}};

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number with a fraction";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

int line_of(const toml::node& node) {
  return static_cast<int>(node.source().begin.line);
}

bool is_hostname(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  char prev = '.';
  for (const char c : name) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else {
      const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      if (!ok || (label == 0 && c == '-') || ++label > 63) return false;
    }
    prev = c;
  }
  return prev != '-' && prev != '.';
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string port_hint(std::uint16_t port) {
  switch (port) {
    case 25:
      return "relay + starttls (port 25 is MTA-to-MTA)";
    case 465:
      return "submission + implicit (RFC 8314)";
    case 587:
    case 2525:
      return "submission + starttls-required (RFC 6409)";
    default:
      return "relay + starttls for servers, submission + starttls-required for clients";
  }
}

class Loader {
 public:
  Loader(std::string source_name, fs::path base_dir, bool embedded)
      : source_name_(std::move(source_name)), base_dir_(std::move(base_dir)) {
    config_.embedded = embedded;
    if (!embedded) config_.source = source_name_;
  }

  LoadResult run(std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(text, source_name_);
    } catch (const toml::parse_error& e) {
      const auto& pos = e.source().begin;
      add(Problem::Severity::error,
          source_name_ + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column),
          "TOML syntax error: " + std::string(e.description()),
          "fix the syntax at line " + std::to_string(pos.line) + ", column " +
              std::to_string(pos.column) +
              " (strings need double quotes, arrays [\"a\", \"b\"], tables [name], listeners "
              "[[listener]])");
      return finish();
    }
    check_keys(root, "", kTopKeys);
    load_top(root);
    load_tls(root);
    load_auth(root);
    load_listeners(root);
    load_limits(root);
    load_delivery(root);
    load_log(root);
    load_spool(root);
    load_dovecot(root);
    return finish();
  }

 private:
  std::string where(int line) const {
    return line > 0 ? source_name_ + ":" + std::to_string(line) : source_name_;
  }
  void add(Problem::Severity severity, std::string where_text, std::string message,
           std::string fix) {
    if (severity == Problem::Severity::error) ++errors_;
    result_.problems.push_back(
        {severity, std::move(where_text), std::move(message), std::move(fix)});
  }
  void error(int line, std::string message, std::string fix) {
    add(Problem::Severity::error, where(line), std::move(message), std::move(fix));
  }
  void note_line(const std::string& key, const toml::node& node) {
    config_.lines[key] = line_of(node);
  }

  LoadResult finish() {
    if (errors_ == 0) result_.config = std::move(config_);
    return std::move(result_);
  }

  // Unknown keys: a typo gets the nearest known key; a key that belongs in
  // another table gets that table's name.
  void check_keys(const toml::table& table, std::string_view section,
                  std::span<const std::string_view> known) {
    for (auto&& [key, node] : table) {
      (void)node;
      const std::string_view name = key.str();
      if (std::find(known.begin(), known.end(), name) != known.end()) continue;
      const int line = static_cast<int>(key.source().begin.line);
      const std::string full =
          section.empty() ? std::string(name) : std::string(section) + "." + std::string(name);
      std::string fix;
      for (const auto& s : kSections) {
        if (s.name == section) continue;
        if (std::find(s.keys.begin(), s.keys.end(), name) != s.keys.end()) {
          fix = "\"" + std::string(name) + "\" belongs in the [" + std::string(s.name) + "] table" +
                (s.name == "listener" ? " (a [[listener]] entry)" : "");
          break;
        }
      }
      if (const std::string near = nearest(name, known); fix.empty() && !near.empty()) {
        fix = "did you mean \"" + near + "\"?";
      }
      if (fix.empty()) {
        std::string list;
        for (const auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        fix = "remove it; known keys " +
              (section.empty() ? std::string("at the top level")
                               : "in [" + std::string(section) + "]") +
              ": " + list;
      }
      error(line, "unknown key \"" + full + "\"", fix);
    }
  }

  // Typed lookups: nullptr/nullopt when absent; a type error is reported
  // and also yields nullopt.
  const toml::node* find(const toml::table& t, std::string_view key) const { return t.get(key); }

  std::optional<std::string> get_string(const toml::table& t, std::string_view key,
                                        const std::string& full, std::string_view example) {
    const toml::node* n = find(t, key);
    if (!n) return std::nullopt;
    note_line(full, *n);
    if (const auto* s = n->as_string()) return s->get();
    error(line_of(*n), full + " must be a string, found " + std::string(type_name(*n)),
          "write it in double quotes, e.g. " + std::string(key) + " = " + std::string(example));
    return std::nullopt;
  }

  std::optional<bool> get_bool(const toml::table& t, std::string_view key,
                               const std::string& full) {
    const toml::node* n = find(t, key);
    if (!n) return std::nullopt;
    note_line(full, *n);
    if (const auto* b = n->as_boolean()) return b->get();
    error(line_of(*n), full + " must be true or false, found " + std::string(type_name(*n)),
          "write " + std::string(key) + " = true or " + std::string(key) +
              " = false (without quotes)");
    return std::nullopt;
  }

  std::optional<std::int64_t> get_int(const toml::table& t, std::string_view key,
                                      const std::string& full, std::int64_t min, std::int64_t max) {
    const toml::node* n = find(t, key);
    if (!n) return std::nullopt;
    note_line(full, *n);
    const auto* i = n->as_integer();
    const std::string range =
        "use a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    if (!i) {
      error(line_of(*n), full + " must be an integer, found " + std::string(type_name(*n)),
            range + ", without quotes");
      return std::nullopt;
    }
    if (i->get() < min || i->get() > max) {
      error(line_of(*n), full + " = " + std::to_string(i->get()) + " is out of range", range);
      return std::nullopt;
    }
    return i->get();
  }

  const toml::table* get_table(const toml::table& root, std::string_view key) {
    const toml::node* n = find(root, key);
    if (!n) return nullptr;
    if (const auto* t = n->as_table()) return t;
    error(line_of(*n), std::string(key) + " must be a table, found " + std::string(type_name(*n)),
          "write it as a [" + std::string(key) + "] section");
    return nullptr;
  }

  std::optional<std::vector<std::pair<std::string, int>>> get_string_array(
      const toml::table& t, std::string_view key, std::string_view example) {
    const toml::node* n = find(t, key);
    if (!n) return std::nullopt;
    note_line(std::string(key), *n);
    const auto* arr = n->as_array();
    if (!arr) {
      error(line_of(*n),
            std::string(key) + " must be an array of strings, found " + std::string(type_name(*n)),
            "write it as " + std::string(key) + " = " + std::string(example));
      return std::nullopt;
    }
    std::vector<std::pair<std::string, int>> out;
    for (const auto& item : *arr) {
      const int line = line_of(item) > 0 ? line_of(item) : line_of(*n);
      if (const auto* s = item.as_string()) {
        out.emplace_back(s->get(), line);
      } else {
        error(
            line,
            std::string(key) + " must contain only strings, found " + std::string(type_name(item)),
            "write it as " + std::string(key) + " = " + std::string(example));
      }
    }
    return out;
  }

  fs::path resolve(const std::string& p) const {
    fs::path path(p);
    if (path.is_relative()) path = base_dir_ / path;
    return path.lexically_normal();
  }

  void load_top(const toml::table& root) {
    if (auto h = get_string(root, "hostname", "hostname", "\"mail.example.com\"")) {
      const int line = config_.lines["hostname"];
      std::string name = lowercase(*h);
      if (!name.empty() && name.back() == '.') name.pop_back();
      if (!is_hostname(name)) {
        error(line, "hostname \"" + *h + "\" is not a valid host name",
              "use the fully qualified name this server is known by in DNS, e.g. "
              "hostname = \"mail.example.com\"");
      }
      config_.hostname = name;
    } else if (!find(root, "hostname")) {
      // Without a hostname we greet with the machine's own name, as Postfix
      // does for myhostname; `postern check` warns when it is not a FQDN.
      char buf[256] = {};
      if (::gethostname(buf, sizeof buf - 1) == 0 && buf[0] != '\0') {
        config_.hostname = lowercase(buf);
      } else {
        config_.hostname = "localhost";
      }
      config_.hostname_from_system = true;
    }

    if (auto d = get_string(root, "data_dir", "data_dir", "\"/var/lib/postern\"")) {
      if (d->empty()) {
        error(config_.lines["data_dir"], "data_dir is empty",
              "set data_dir = \"/var/lib/postern\" (the spool and mailboxes live there)");
      } else {
        config_.data_dir = resolve(*d);
      }
    } else if (!find(root, "data_dir")) {
      error(0, "data_dir is not set",
            "add data_dir = \"/var/lib/postern\" at the top of the file (the spool and "
            "mailboxes live there)");
    }

    if (auto domains = get_string_array(root, "local_domains", "[\"example.com\"]")) {
      for (auto& [domain, line] : *domains) {
        std::string d = lowercase(domain);
        if (!d.empty() && d.back() == '.') d.pop_back();
        if (!is_hostname(d)) {
          error(line, "local_domains entry \"" + domain + "\" is not a domain name",
                "list bare domain names, e.g. local_domains = [\"example.com\"] (no @, no "
                "spaces, no ports)");
          continue;
        }
        if (std::find(config_.local_domains.begin(), config_.local_domains.end(), d) ==
            config_.local_domains.end()) {
          config_.local_domains.push_back(d);
        }
      }
    }

    if (auto nets = get_string_array(root, "relay_networks", "[\"127.0.0.0/8\", \"::1/128\"]")) {
      std::size_t index = 0;
      for (auto& [text, line] : *nets) {
        auto n = parse_network(text);
        if (!n) {
          error(line, "relay_networks entry \"" + text + "\" is not a network",
                "write address/prefix, e.g. \"192.168.1.0/24\" or \"fd00::/8\" (a bare "
                "address means that one host)");
          continue;
        }
        config_.lines["relay_networks[" + std::to_string(index++) + "]"] = line;
        config_.relay_networks.push_back(std::move(*n));
      }
    }
  }

  void load_tls(const toml::table& root) {
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

  // [auth] backend, dovecot_auth_socket and [delivery] local (SPEC §1.12);
  // after load_auth and load_delivery, which accept the keys.
  void load_dovecot(const toml::table& root) {
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
        error(config_.lines["delivery.local"],
              "delivery.local \"" + *l + "\" cannot be used: " + why,
              "write \"maildir\" (the default), \"lmtp:unix:/run/dovecot/lmtp\" or "
              "\"lmtp:127.0.0.1:24\"");
      } else {
        if (target->kind == LocalTarget::Kind::lmtp_unix) {
          target->socket = resolve(target->socket.string());
        }
        config_.delivery.local = target->text();
      }
    }
  }

  void load_auth(const toml::table& root) {
    const toml::table* t = get_table(root, "auth");
    if (t) {
      check_keys(*t, "auth", kAuthKeys);
      if (auto u = get_string(*t, "users_file", "auth.users_file", "\"/etc/postern/users\"")) {
        if (!u->empty()) config_.auth.users_file = resolve(*u);
      }
    }
    if (config_.auth.users_file.empty()) config_.auth.users_file = config_.data_dir / "users";
  }

  void load_listeners(const toml::table& root) {
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

  void load_listener(const toml::table& t, int table_line) {
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
      error(
          l.line,
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

  std::optional<std::string> get_listener_string(const toml::table& t, std::string_view key,
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

  void load_limits(const toml::table& root) {
    const toml::table* t = get_table(root, "limits");
    if (!t) return;
    check_keys(*t, "limits", kLimitsKeys);
    Limits& lim = config_.limits;
    auto size = [](std::int64_t v) { return static_cast<std::size_t>(v); };
    // RFC 1870 SIZE is a decimal count of octets; 4 GiB is far beyond what
    // any peer accepts, and keeps the value meaningful on every platform.
    if (auto v = get_int(*t, "max_message_size", "limits.max_message_size", 1, 4294967295LL)) {
      lim.max_message_size = size(*v);
    }
    if (auto v = get_int(*t, "max_recipients", "limits.max_recipients", 1, 1000000)) {
      lim.max_recipients = size(*v);
    }
    if (auto v = get_int(*t, "max_sessions", "limits.max_sessions", 1, 1000000)) {
      lim.max_sessions = size(*v);
    }
    if (auto v = get_int(*t, "max_sessions_per_ip", "limits.max_sessions_per_ip", 1, 1000000)) {
      lim.max_sessions_per_ip = size(*v);
    }
    if (auto v = get_int(*t, "max_errors", "limits.max_errors", 1, 1000)) {
      lim.max_errors = size(*v);
    }
    if (lim.max_sessions_per_ip > lim.max_sessions &&
        config_.lines.count("limits.max_sessions_per_ip")) {
      error(config_.lines["limits.max_sessions_per_ip"],
            "limits.max_sessions_per_ip (" + std::to_string(lim.max_sessions_per_ip) +
                ") is larger than limits.max_sessions (" + std::to_string(lim.max_sessions) + ")",
            "make max_sessions_per_ip at most max_sessions");
    }
    if (const toml::node* n = find(*t, "idle_timeout")) {
      note_line("limits.idle_timeout", *n);
      const std::string fix =
          "write a duration from 1s to 24h: idle_timeout = \"300s\" (suffix s, m or h; a plain "
          "integer means seconds)";
      std::optional<std::chrono::seconds> d;
      if (const auto* s = n->as_string()) {
        d = parse_duration(s->get());
        if (!d) {
          error(line_of(*n), "limits.idle_timeout \"" + s->get() + "\" is not a duration", fix);
          return;
        }
      } else if (const auto* i = n->as_integer()) {
        if (i->get() >= 0) d = std::chrono::seconds(i->get());
      } else {
        error(line_of(*n),
              "limits.idle_timeout must be a duration, found " + std::string(type_name(*n)), fix);
        return;
      }
      if (!d || *d < std::chrono::seconds(1) || *d > std::chrono::hours(24)) {
        error(line_of(*n), "limits.idle_timeout is out of range", fix);
        return;
      }
      lim.idle_timeout = *d;
    }
  }

  // A duration key: "90s", "5m", "1h30m", "5d", or an integer of seconds,
  // within [min, max]. Absent or wrong: nullopt (wrong is reported).
  std::optional<std::chrono::seconds> get_duration(const toml::table& t, std::string_view key,
                                                   const std::string& full,
                                                   std::chrono::seconds min,
                                                   std::chrono::seconds max,
                                                   std::string_view example) {
    const toml::node* n = find(t, key);
    if (!n) return std::nullopt;
    note_line(full, *n);
    const std::string fix = "write a duration from " + duration_text(min) + " to " +
                            duration_text(max) + ", e.g. " + std::string(key) + " = " +
                            std::string(example) +
                            " (suffix s, m, h or d, combinable as \"1h30m\"; a plain integer "
                            "means seconds)";
    std::optional<std::chrono::seconds> d;
    if (const auto* s = n->as_string()) {
      d = parse_duration(s->get());
      if (!d) {
        error(line_of(*n), full + " \"" + s->get() + "\" is not a duration", fix);
        return std::nullopt;
      }
    } else if (const auto* i = n->as_integer()) {
      if (i->get() >= 0) d = std::chrono::seconds(i->get());
    } else {
      error(line_of(*n), full + " must be a duration, found " + std::string(type_name(*n)), fix);
      return std::nullopt;
    }
    if (!d || *d < min || *d > max) {
      error(line_of(*n), full + " is out of range", fix);
      return std::nullopt;
    }
    return d;
  }

  static std::string duration_text(std::chrono::seconds d) {
    const auto n = d.count();
    if (n % 86400 == 0) return std::to_string(n / 86400) + "d";
    if (n % 3600 == 0) return std::to_string(n / 3600) + "h";
    if (n % 60 == 0) return std::to_string(n / 60) + "m";
    return std::to_string(n) + "s";
  }

  // One of a fixed set of words; the fix lists them.
  std::optional<std::string> get_choice(const toml::table& t, std::string_view key,
                                        const std::string& full,
                                        std::initializer_list<std::string_view> choices,
                                        std::string_view why) {
    std::string list;
    for (const auto c : choices) list += (list.empty() ? "\"" : ", \"") + std::string(c) + "\"";
    auto v = get_string(t, key, full, "\"" + std::string(*choices.begin()) + "\"");
    if (!v) return std::nullopt;
    if (std::find(choices.begin(), choices.end(), *v) != choices.end()) return v;
    const std::string near = nearest(*v, std::span<const std::string_view>(choices));
    error(config_.lines[full], "unknown " + full + " \"" + *v + "\"",
          (near.empty() ? std::string() : "did you mean \"" + near + "\"? ") + std::string(key) +
              " must be one of " + list + " (" + std::string(why) + ")");
    return std::nullopt;
  }

  void load_delivery(const toml::table& root) {
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
      d.tls = *v;
    }
    if (auto b = get_bool(*t, "tls_fallback_plaintext", "delivery.tls_fallback_plaintext")) {
      d.tls_fallback_plaintext = *b;
    }
    load_tls_policy(*t);
    load_smarthost(*t);
    load_delivery_timing(*t);
  }

  // [delivery.tls_policy] "example.org" = "required": per recipient domain.
  void load_tls_policy(const toml::table& delivery) {
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
      std::string domain = lowercase(key.str());
      if (!domain.empty() && domain.back() == '.') domain.pop_back();
      if (!is_hostname(domain)) {
        error(line,
              "delivery.tls_policy key \"" + std::string(key.str()) + "\" is not a domain name",
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
      config_.delivery.tls_policy[domain] = s->get();
    }
  }

  void load_smarthost(const toml::table& t) {
    DeliveryConfig& d = config_.delivery;
    if (auto s =
            get_string(t, "smarthost", "delivery.smarthost", "\"smtp.provider.example:587\"")) {
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
    if (auto v = get_choice(t, "smarthost_tls", "delivery.smarthost_tls",
                            {"starttls", "implicit", "none"},
                            "\"starttls\" for 587 and 2525, \"implicit\" for 465, \"none\" only "
                            "for an internal relay hub")) {
      d.smarthost_tls = *v;
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

  void load_fallback_ports(const toml::table& t) {
    const toml::node* n = find(t, "fallback_ports");
    if (!n) return;
    note_line("delivery.fallback_ports", *n);
    const std::string fix =
        "write the ports in the order to try them, e.g. fallback_ports = "
        "[2525, 465] (whole numbers from 1 to 65535, without quotes)";
    const auto* arr = n->as_array();
    if (!arr) {
      error(
          line_of(*n),
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

  void load_delivery_timing(const toml::table& t) {
    using std::chrono::seconds;
    DeliveryConfig& d = config_.delivery;
    constexpr seconds kDay{86400};
    if (auto v = get_duration(t, "retry_initial", "delivery.retry_initial", seconds(1), kDay,
                              "\"1m\"")) {
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

  void load_log(const toml::table& root) {
    const toml::table* t = get_table(root, "log");
    if (!t) return;
    check_keys(*t, "log", kLogKeys);
    if (auto target = get_string(*t, "target", "log.target", "\"stderr\"")) {
      if (*target != "stderr" && *target != "syslog") {
        error(config_.lines["log.target"], "unknown log target \"" + *target + "\"",
              "target must be \"stderr\" or \"syslog\" (facility mail)");
      } else {
        config_.log.target = *target;
      }
    }
  }

  void load_spool(const toml::table& root) {
    const toml::table* t = get_table(root, "spool");
    if (!t) return;
    check_keys(*t, "spool", kSpoolKeys);
    if (auto b = get_bool(*t, "unsafe_ack_before_fsync", "spool.unsafe_ack_before_fsync")) {
      config_.unsafe_ack_before_fsync = *b;
    }
  }

  std::string source_name_;
  fs::path base_dir_;
  Config config_;
  LoadResult result_;
  int errors_ = 0;
};

}  // namespace

std::string Config::where_line(int line) const {
  const std::string name = embedded ? std::string(kEmbeddedName) : source.string();
  return line > 0 ? name + ":" + std::to_string(line) : name;
}

std::string Config::where(std::string_view key) const {
  const auto it = lines.find(key);
  return where_line(it == lines.end() ? 0 : it->second);
}

LoadResult load_string(std::string_view toml_text, const std::string& source_name,
                       const std::filesystem::path& base_dir) {
  return Loader(source_name, base_dir, false).run(toml_text);
}

LoadResult load_string(std::string_view toml_text, const std::string& source_name) {
  std::filesystem::path base = std::filesystem::path(source_name).parent_path();
  if (base.empty()) base = std::filesystem::current_path();
  return load_string(toml_text, source_name, base);
}

LoadResult load_file(const std::filesystem::path& path) {
  std::string text;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    ec = std::make_error_code(std::errc::is_a_directory);
  } else if (read_file(path, text, ec)) {
    ec.clear();
  }
  if (ec) {
    LoadResult result;
    result.unreadable = true;
    result.problems.push_back({Problem::Severity::error, path.string(),
                               "cannot read the configuration file: " + ec.message(),
                               "check the path given to --config and its permissions"});
    return result;
  }
  std::error_code abs_ec;
  auto base = std::filesystem::absolute(path, abs_ec).parent_path();
  if (abs_ec) base = path.parent_path();
  return load_string(text, path.string(), base);
}

Config embedded_default(const std::filesystem::path& base_dir) {
  LoadResult r = Loader(std::string(kEmbeddedName), base_dir, true).run(embedded_default_toml());
  // The embedded text is part of the program; failing to load it is a bug.
  if (!r.config) throw std::logic_error("the embedded default configuration does not load");
  return std::move(*r.config);
}

}  // namespace postern::config
