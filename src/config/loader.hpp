// The loader behind load_string() and load_file() (config/config.hpp),
// internal to the config module. Each section of the file is parsed by
// Loader members defined in their own load_<section>.cpp; the shared typed
// lookups (every problem reported with file:line and a fix, all at once)
// are in load.cpp. A new section: its keys in the schema below, its
// load_<section>() declared here, defined in load_<section>.cpp, and called
// from Loader::run().
#pragma once

#include <toml++/toml.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "core/text.hpp"

namespace postern::config {

// The schema: every key each table may hold. Anything else is a typo or a
// key in the wrong table, and is reported as such.
inline constexpr std::string_view kTopKeys[] = {
    "hostname", "data_dir", "local_domains", "relay_networks", "tls",  "auth",      "listener",
    "limits",   "delivery", "log",           "spool",          "dkim", "addresses", "user",
    "metrics",  "state",    "inbound"};
inline constexpr std::string_view kTlsKeys[] = {"cert", "key"};
inline constexpr std::string_view kAuthKeys[] = {"users_file", "backend", "dovecot_auth_socket",
                                                 "cache_ttl"};
inline constexpr std::string_view kListenerKeys[] = {"address", "role", "tls", "insecure"};
inline constexpr std::string_view kLimitsKeys[] = {
    "max_message_size", "max_recipients", "idle_timeout", "max_sessions", "max_sessions_per_ip",
    "max_errors",
    // SPEC §1.10 (load_rate_limits.cpp)
    "user_messages", "user_recipients", "auth_failures_per_ip", "auth_failures_per_user", "user"};
// [limits.user."name"]: what an override may set.
inline constexpr std::string_view kUserLimitKeys[] = {"user_messages", "user_recipients"};
inline constexpr std::string_view kStateKeys[] = {"url"};
inline constexpr std::string_view kDeliveryKeys[] = {"resolver",
                                                     "remote_port",
                                                     "tls",
                                                     "tls_fallback_plaintext",
                                                     "tls_policy",
                                                     "smarthost",
                                                     "smarthost_tls",
                                                     "smarthost_user",
                                                     "smarthost_password",
                                                     "smarthost_password_file",
                                                     "smarthost_ca_file",
                                                     "fallback_ports",
                                                     "retry_initial",
                                                     "retry_max",
                                                     "max_queue_lifetime",
                                                     "connect_timeout",
                                                     "command_timeout",
                                                     "max_connections",
                                                     "max_connections_per_destination",
                                                     "local"};
inline constexpr std::string_view kLogKeys[] = {"target"};
inline constexpr std::string_view kSpoolKeys[] = {"unsafe_ack_before_fsync"};
inline constexpr std::string_view kAddressesKeys[] = {
    "aliases_file", "recipient_delimiter", "srs_secret_file",
    "srs_domain",   "default_domain",      "postmaster",
    "abuse",        "smarthost_senders",   "smarthost_rewrite_from"};
inline constexpr std::string_view kMetricsKeys[] = {"address"};
inline constexpr std::string_view kDkimKeys[] = {"domain", "selector", "key"};
inline constexpr std::string_view kInboundKeys[] = {"spf", "dkim", "dmarc", "dmarc_policy",
                                                    "dnsbl"};

struct Section {
  std::string_view name;  // as written in the file: "tls", "listener"
  std::span<const std::string_view> keys;
};
inline constexpr std::array<Section, 12> kSections = {{{"tls", kTlsKeys},
                                                       {"auth", kAuthKeys},
                                                       {"listener", kListenerKeys},
                                                       {"limits", kLimitsKeys},
                                                       {"delivery", kDeliveryKeys},
                                                       {"log", kLogKeys},
                                                       {"spool", kSpoolKeys},
                                                       {"dkim", kDkimKeys},
                                                       {"addresses", kAddressesKeys},
                                                       {"metrics", kMetricsKeys},
                                                       {"state", kStateKeys},
                                                       {"inbound", kInboundKeys}}};

std::string_view type_name(const toml::node& node);
int line_of(const toml::node& node);
bool is_hostname(std::string_view name);
// The listener shape usually meant for a well-known port.
std::string port_hint(std::uint16_t port);

class Loader {
 public:
  Loader(std::string source_name, std::filesystem::path base_dir, bool embedded);
  LoadResult run(std::string_view text);

 private:
  std::string where(int line) const;
  void add(Problem::Severity severity, std::string where_text, std::string message,
           std::string fix);
  void error(int line, std::string message, std::string fix);
  void note_line(const std::string& key, const toml::node& node);
  LoadResult finish();
  // Unknown keys: a typo gets the nearest known key; a key that belongs in
  // another table gets that table's name.
  void check_keys(const toml::table& table, std::string_view section,
                  std::span<const std::string_view> known);
  // Typed lookups: nullptr/nullopt when absent; a type error is reported
  // and also yields nullopt.
  const toml::node* find(const toml::table& t, std::string_view key) const;
  std::optional<std::string> get_string(const toml::table& t, std::string_view key,
                                        const std::string& full, std::string_view example);
  std::optional<bool> get_bool(const toml::table& t, std::string_view key, const std::string& full);
  std::optional<std::int64_t> get_int(const toml::table& t, std::string_view key,
                                      const std::string& full, std::int64_t min, std::int64_t max);
  const toml::table* get_table(const toml::table& root, std::string_view key);
  std::optional<std::vector<std::pair<std::string, int>>> get_string_array(
      const toml::table& t, std::string_view key, std::string_view example);
  std::filesystem::path resolve(const std::string& p) const;
  // A duration key: "90s", "5m", "1h30m", "5d", or an integer of seconds,
  // within [min, max]. Absent or wrong: nullopt (wrong is reported).
  std::optional<std::chrono::seconds> get_duration(const toml::table& t, std::string_view key,
                                                   const std::string& full,
                                                   std::chrono::seconds min,
                                                   std::chrono::seconds max,
                                                   std::string_view example);
  static std::string duration_text(std::chrono::seconds d);
  // One of a fixed set of words; the fix lists them.
  std::optional<std::string> get_choice(const toml::table& t, std::string_view key,
                                        const std::string& full,
                                        std::initializer_list<std::string_view> choices,
                                        std::string_view why);

  void load_top(const toml::table& root);

  void load_tls(const toml::table& root);

  void load_auth(const toml::table& root);

  void load_listeners(const toml::table& root);
  void load_listener(const toml::table& t, int table_line);
  std::optional<std::string> get_listener_string(const toml::table& t, std::string_view key,
                                                 std::string_view example, bool& ok);

  void load_limits(const toml::table& root);
  // [limits] rate keys and [limits.user."name"] (load_rate_limits.cpp).
  void load_rate_limits(const toml::table& root);
  std::optional<std::vector<limits::Rate>> get_rate_list(const toml::table& t, std::string_view key,
                                                         const std::string& full);
  std::optional<limits::Rate> get_rate(const toml::table& t, std::string_view key,
                                       const std::string& full);
  void load_state(const toml::table& root);  // [state] url (load_state.cpp)

  void load_delivery(const toml::table& root);
  // [delivery.tls_policy] "example.org" = "required": per recipient domain.
  void load_tls_policy(const toml::table& delivery);
  void load_smarthost(const toml::table& t);
  void load_fallback_ports(const toml::table& t);
  void load_delivery_timing(const toml::table& t);

  void load_log(const toml::table& root);

  void load_spool(const toml::table& root);

  void load_addresses(const toml::table& root);
  void load_service(const toml::table& root);  // top-level `user`
  void load_metrics(const toml::table& root);
  // [inbound]: SPF, DKIM, DMARC and DNS blocklists (load_inbound.cpp).
  void load_inbound(const toml::table& root);
  // [auth] backend, dovecot_auth_socket and [delivery] local (SPEC §1.12),
  // after load_auth and load_delivery, which accept the keys.
  void load_dovecot(const toml::table& root);
  // [[dkim]]: each key read and checked (load_dkim.cpp).
  void load_dkim(const toml::table& root);

  std::string source_name_;
  std::filesystem::path base_dir_;
  Config config_;
  LoadResult result_;
  int errors_ = 0;
};

}  // namespace postern::config
