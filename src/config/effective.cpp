#include "config/effective.hpp"

#include <fmt/format.h>

#include "config/redis_url.hpp"

namespace postern::config {
namespace {

std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string duration(std::chrono::seconds s) {
  return toml_string(fmt::format("{}s", s.count()));
}

template <typename T>
std::string list(const std::vector<T>& items, auto&& render) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += render(items[i]);
  }
  return out + "]";
}

// Collects `key = value` lines of one table, each marked when defaulted.
class Writer {
 public:
  Writer(const Config& config, const EffectiveOptions& options)
      : config_(config), options_(options) {}

  void table(std::string_view name) {
    table_ = std::string(name);
    table_printed_ = false;
  }

  void key(std::string_view name, const std::string& value) {
    const std::string full = table_.empty() ? std::string(name) : table_ + "." + std::string(name);
    const bool set = config_.lines.count(full) > 0 || config_.embedded;
    if (options_.only_set && !set) return;
    if (!table_.empty() && !table_printed_) {
      out_ += "\n[" + table_ + "]\n";
      table_printed_ = true;
    }
    out_ += fmt::format("{} = {}{}\n", name, value, set ? "" : "  # default");
  }

  // An optional key that is not set: shown as a comment (TOML has no
  // "unset", and an empty string would not load back).
  void unset(std::string_view name) {
    if (options_.only_set) return;
    if (!table_.empty() && !table_printed_) {
      out_ += "\n[" + table_ + "]\n";
      table_printed_ = true;
    }
    out_ += fmt::format("# {} is not set  # default\n", name);
  }

  void optional(std::string_view name, const std::string& value) {
    if (value.empty()) return unset(name);
    key(name, toml_string(value));
  }

  void raw(const std::string& text) { out_ += text; }
  std::string take() { return std::move(out_); }

 private:
  const Config& config_;
  const EffectiveOptions& options_;
  std::string table_;
  bool table_printed_ = false;
  std::string out_;
};

}  // namespace

std::string render_effective(const Config& c, const EffectiveOptions& options) {
  Writer w(c, options);
  w.raw(fmt::format("# postern effective configuration, from {}\n",
                    c.embedded ? std::string("the embedded default") : c.source.string()));
  if (!options.only_set) w.raw("# keys marked \"# default\" are not in the file\n");
  w.key("hostname", toml_string(c.hostname));
  w.key("data_dir", toml_string(c.data_dir.string()));
  w.optional("user", c.user);
  w.key("local_domains", list(c.local_domains, [](const auto& d) { return toml_string(d); }));
  w.key("relay_networks",
        list(c.relay_networks, [](const auto& n) { return toml_string(n.text); }));

  w.table("tls");
  w.key("cert", toml_string(c.tls.cert.string()));
  w.key("key", toml_string(c.tls.key.string()));

  w.table("auth");
  w.key("users_file", toml_string(c.auth.users_file.string()));
  w.key("cache_ttl", duration(c.auth.cache_ttl));
  w.key("backend", toml_string(c.auth.backend));
  w.optional("dovecot_auth_socket", c.auth.dovecot_auth_socket.string());

  w.table("limits");
  w.key("max_message_size", std::to_string(c.limits.max_message_size));
  w.key("max_recipients", std::to_string(c.limits.max_recipients));
  w.key("idle_timeout", duration(c.limits.idle_timeout));
  w.key("max_sessions", std::to_string(c.limits.max_sessions));
  w.key("max_sessions_per_ip", std::to_string(c.limits.max_sessions_per_ip));
  w.key("max_errors", std::to_string(c.limits.max_errors));
  const auto rates = [](const std::vector<limits::Rate>& r) {
    return list(r, [](const limits::Rate& one) { return toml_string(one.text()); });
  };
  const limits::RateLimits& rl = c.rate_limits;
  w.key("user_messages", rates(rl.defaults.messages));
  w.key("user_recipients", rates(rl.defaults.recipients));
  w.key("auth_failures_per_ip", toml_string(rl.auth_failures_per_ip.text()));
  w.key("auth_failures_per_user", toml_string(rl.auth_failures_per_user.text()));
  // [limits.user."name"]: only what each override sets.
  if (rl.overrides.empty()) w.unset("user");
  for (const auto& [user, o] : rl.overrides) {
    w.raw(fmt::format("\n[limits.user.{}]\n", toml_string(user)));
    if (o.messages) w.raw(fmt::format("user_messages = {}\n", rates(*o.messages)));
    if (o.recipients) w.raw(fmt::format("user_recipients = {}\n", rates(*o.recipients)));
  }

  w.table("state");
  // A password in the URL stays out, as smarthost_password does.
  const auto url = parse_redis_url(c.state.url);
  w.optional("url", url.url ? url.url->redacted() : c.state.url);

  const DeliveryConfig& d = c.delivery;
  w.table("delivery");
  w.optional("resolver", d.resolver);
  w.key("remote_port", std::to_string(d.remote_port));
  w.key("tls", toml_string(to_string(d.tls)));
  w.key("tls_fallback_plaintext", d.tls_fallback_plaintext ? "true" : "false");
  w.optional("smarthost", d.smarthost);
  w.key("smarthost_tls", toml_string(to_string(d.smarthost_tls)));
  w.optional("smarthost_user", d.smarthost_user);
  // The value itself stays out: this output ends up in tickets and chats.
  if (d.smarthost_password.empty()) {
    w.unset("smarthost_password");
  } else {
    w.key("smarthost_password", "\"(set; not shown)\"");
  }
  w.optional("smarthost_password_file", d.smarthost_password_file.string());
  w.optional("smarthost_ca_file", d.smarthost_ca_file.string());
  w.key("fallback_ports",
        list(d.fallback_ports, [](std::uint16_t p) { return std::to_string(p); }));
  w.key("retry_initial", duration(d.retry_initial));
  w.key("retry_max", duration(d.retry_max));
  w.key("max_queue_lifetime", duration(d.max_queue_lifetime));
  w.key("connect_timeout", duration(d.connect_timeout));
  w.key("command_timeout", duration(d.command_timeout));
  w.key("max_connections", std::to_string(d.max_connections));
  w.key("max_connections_per_destination", std::to_string(d.max_connections_per_destination));
  w.key("local", toml_string(d.local));
  if (d.tls_policy.empty()) {
    w.unset("tls_policy");
  } else {
    w.raw("\n[delivery.tls_policy]\n");
    for (const auto& [domain, policy] : d.tls_policy) {
      w.raw(fmt::format("{} = {}\n", toml_string(domain), toml_string(to_string(policy))));
    }
  }

  w.table("log");
  w.key("target", toml_string(c.log.target));

  w.table("metrics");
  w.optional("address", c.metrics.address);

  w.table("inbound");
  w.key("spf", c.inbound.spf ? "true" : "false");
  w.key("dkim", c.inbound.dkim ? "true" : "false");
  w.key("dmarc", c.inbound.dmarc ? "true" : "false");
  w.key("dmarc_policy", toml_string(c.inbound.dmarc_policy));
  w.key("dnsbl", list(c.inbound.dnsbl, [](const auto& z) { return toml_string(z); }));

  w.table("spool");
  w.key("unsafe_ack_before_fsync", c.unsafe_ack_before_fsync ? "true" : "false");

  const AddressesConfig& a = c.addresses;
  w.table("addresses");
  w.optional("aliases_file", a.aliases_file.string());
  w.key("recipient_delimiter", toml_string(a.recipient_delimiter));
  w.optional("srs_secret_file", a.srs_secret_file.string());
  w.optional("srs_domain", a.srs_domain);
  w.optional("default_domain", a.default_domain);
  w.optional("postmaster", a.postmaster);
  w.optional("abuse", a.abuse);
  w.key("smarthost_rewrite_from", a.smarthost_rewrite_from ? "true" : "false");
  if (a.smarthost_senders.empty()) {
    w.unset("smarthost_senders");
  } else {
    w.raw("\n[addresses.smarthost_senders]\n");
    for (const auto& [from, account] : a.smarthost_senders) {
      w.raw(fmt::format("{} = {}\n", toml_string(from), toml_string(account)));
    }
  }

  for (const auto& l : c.listeners) {
    w.raw(
        fmt::format("\n[[listener]]\naddress  = {}\nrole     = {}\ntls      = {}\ninsecure = {}\n",
                    toml_string(l.address), toml_string(to_string(l.role)),
                    toml_string(to_string(l.tls)), l.insecure ? "true" : "false"));
  }
  // Signing keys: only the path is printed, never the key itself.
  if (c.dkim.empty() && !options.only_set) w.raw("\n# no [[dkim]] signing keys\n");
  for (const auto& k : c.dkim) {
    w.raw(fmt::format("\n[[dkim]]\ndomain   = {}\nselector = {}\nkey      = {}\n",
                      toml_string(k.domain), toml_string(k.selector), toml_string(k.key.string())));
  }
  return w.take();
}

}  // namespace postern::config
