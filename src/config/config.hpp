// Typed configuration (SPEC §2). Loaded from one TOML file, or the embedded
// default when `postern serve` runs without --config.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.hpp"
#include "core/types.hpp"
#include "limits/user_limits.hpp"
#include "mailauth/dkim/key.hpp"

namespace postern::config {

// An IPv4 or IPv6 network, "127.0.0.0/8" or "::1/128".
struct Network {
  std::string text;
  bool v6 = false;
  std::uint8_t bytes[16] = {};
  int prefix = 0;
  bool contains(std::string_view ip) const;  // ip in textual form
};
std::optional<Network> parse_network(std::string_view text);

struct ListenerConfig {
  std::string address;  // as written: "0.0.0.0:25", "[::1]:587"
  std::string host;     // "0.0.0.0", "::1"
  std::uint16_t port = 0;
  Role role = Role::relay;
  TlsMode tls = TlsMode::none;
  bool insecure = false;  // explicit opt-in for AUTH without TLS
  int line = 0;           // where it was declared, for messages
};

struct TlsConfig {
  std::filesystem::path cert;
  std::filesystem::path key;
};

struct AuthConfig {
  std::filesystem::path users_file;
  // "file" (users_file) or "dovecot": credentials and recipients are
  // checked by Dovecot on dovecot_auth_socket (SPEC §1.12).
  std::string backend = "file";
  std::filesystem::path dovecot_auth_socket;
  // How long a good users-file password check is remembered (SPEC §1.10);
  // 0 turns the credential cache off.
  std::chrono::seconds cache_ttl{900};
};

struct DeliveryConfig {
  std::string resolver;  // "127.0.0.1:5353"; empty = system
  std::uint16_t remote_port = 25;
  // MX delivery: "opportunistic" (STARTTLS whenever offered; plaintext when
  // not offered or, if tls_fallback_plaintext, when the handshake fails) or
  // "required" (never send without TLS). Never TlsPolicy::none.
  TlsPolicy tls = TlsPolicy::opportunistic;
  bool tls_fallback_plaintext = true;
  // Per recipient domain (lowercased): required or opportunistic.
  // [delivery.tls_policy] "example.org" = "required"
  std::map<std::string, TlsPolicy> tls_policy;

  std::string smarthost;  // "host:port"; empty = direct MX delivery
  // "starttls" | "implicit" | "none" (never starttls_required: STARTTLS to
  // a smarthost is always required).
  TlsMode smarthost_tls = TlsMode::starttls;
  std::string smarthost_user;                     // empty = no AUTH
  std::string smarthost_password;                 // inline (postern check warns: prefer the file)
  std::filesystem::path smarthost_password_file;  // first line is the password
  std::vector<std::uint16_t> fallback_ports;      // tried in order after smarthost's port

  std::chrono::seconds retry_initial{60};                  // first retry after a transient failure
  std::chrono::seconds retry_max{3600};                    // backoff doubles up to this
  std::chrono::seconds max_queue_lifetime{5 * 24 * 3600};  // then bounce
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds command_timeout{300};        // per SMTP reply (RFC 5321 §4.5.3.2)
  std::size_t max_connections = 20;                 // outbound, overall
  std::size_t max_connections_per_destination = 4;  // per MX host / smarthost
  // Extra CA certificates (PEM) trusted for the smarthost's certificate, on
  // top of the system store: for a provider or hub with a private CA.
  std::filesystem::path smarthost_ca_file;
  // Local mailboxes: "maildir" or "lmtp:unix:PATH" / "lmtp:HOST:PORT"
  // (config/local_target.hpp), relative socket paths already resolved.
  std::string local = "maildir";
};

// [addresses] (SPEC §1.9, docs/addresses.md).
struct AddressesConfig {
  std::filesystem::path aliases_file;     // empty = no aliases
  std::string recipient_delimiter = "+";  // each character separates a "+tag"; "" = none
  std::filesystem::path srs_secret_file;  // empty = no SRS (forwarding keeps the sender)
  std::string srs_domain;                 // empty = the local domain hostname is in, or hostname
  std::string default_domain;             // qualifies bare names; empty = first local domain
  std::string postmaster;                 // where postmaster@ goes; empty = the first user
  std::string abuse;                      // where abuse@ goes; empty = not offered
  // Envelope senders rewritten on the way to the smarthost only: key an
  // address, "@domain" or "*"; value the address the smarthost account owns.
  std::map<std::string, std::string> smarthost_senders;
  bool smarthost_rewrite_from = false;  // also the header From: (breaks DKIM over From)

  // The domain SRS addresses are made in, and bare names are qualified with.
  std::string effective_srs_domain(const std::string& hostname,
                                   const std::vector<std::string>& local_domains) const;
  std::string effective_default_domain(const std::string& hostname,
                                       const std::vector<std::string>& local_domains) const;
};

// [metrics] address = "127.0.0.1:9325": Prometheus exposition; empty = off.
struct MetricsConfig {
  std::string address;  // as written
  std::string host;
  std::uint16_t port = 0;
};

// One [[dkim]] table (SPEC §1.7): a signing key for a domain. Loading the
// configuration reads and checks the key, so a loaded Config never holds
// an entry without one.
struct DkimConfig {
  std::string domain;  // lowercased
  std::string selector;
  std::filesystem::path key;
  int line = 0;  // of the [[dkim]] table
  std::optional<mailauth::dkim::PrivateKey> private_key;
};

// [state] (SPEC §1.10): where shared counters live. Empty url: in this
// process; "redis://host:port/db": in Redis, shared by every node using it.
struct StateConfig {
  std::string url;
};

// [inbound] (SPEC §1.8, docs/inbound.md): what is checked on mail that
// arrives on a relay listener from a client neither authenticated nor in
// relay_networks. Submission is never checked.
struct InboundConfig {
  bool spf = true;
  bool dkim = true;
  bool dmarc = true;
  std::string dmarc_policy = "tag";  // "tag" (record only) or "enforce"
  std::vector<std::string> dnsbl;    // DNS blocklist zones, lowercased, no trailing dot

  bool enforce() const { return dmarc && dmarc_policy == "enforce"; }
  bool verifies() const { return spf || dkim || dmarc; }
};

struct LogConfig {
  std::string target = "stderr";  // or "syslog"
};

// How messages name the embedded default instead of a file.
inline constexpr std::string_view kEmbeddedName = "<embedded default>";

struct Config {
  std::filesystem::path source;  // file it came from; empty for embedded
  bool embedded = false;
  std::string hostname;
  std::filesystem::path data_dir;
  std::vector<std::string> local_domains;  // lowercased
  std::vector<Network> relay_networks;
  TlsConfig tls;
  AuthConfig auth;
  std::vector<ListenerConfig> listeners;
  Limits limits;
  // [limits] user_messages, user_recipients, auth_failures_per_ip,
  // auth_failures_per_user, [limits.user."name"] (SPEC §1.10).
  limits::RateLimits rate_limits;
  StateConfig state;
  DeliveryConfig delivery;
  std::vector<DkimConfig> dkim;
  AddressesConfig addresses;
  LogConfig log;
  MetricsConfig metrics;
  InboundConfig inbound;
  // Top-level `user`: who the server becomes after binding when started as
  // root (docs/service.md). Empty when the key is absent.
  std::string user;
  // Benchmark-only: `[spool] unsafe_ack_before_fsync = true`. Never default.
  bool unsafe_ack_before_fsync = false;

  // Line of each key as declared ("hostname", "tls.cert", "relay_networks[1]",
  // "spool.unsafe_ack_before_fsync"), so lints can name file:line. Keys that
  // were defaulted are absent.
  std::map<std::string, int, std::less<>> lines;
  // True when hostname was not configured and came from gethostname().
  bool hostname_from_system = false;

  // "postern.toml:12" (or just the file name when the key was defaulted);
  // the embedded default is named "<embedded default>".
  std::string where(std::string_view key) const;
  std::string where_line(int line) const;

  std::filesystem::path spool_dir() const { return data_dir / "spool"; }
  std::filesystem::path mail_dir() const { return data_dir / "mail"; }
};

struct Problem {
  enum class Severity { error, warning };
  Severity severity = Severity::error;
  std::string where;    // "postern.toml:12" or "postern.toml" or "listener 127.0.0.1:587"
  std::string message;  // what is wrong
  std::string fix;      // what to do about it
};

struct LoadResult {
  std::optional<Config> config;   // set when there are no errors
  std::vector<Problem> problems;  // every error at once, plus warnings
  bool unreadable = false;        // the file itself could not be read
};

// Parses and validates types, ranges and required keys; reports every error
// with file:line. Relative paths in the file are resolved against the
// directory of the file (load_string: against the directory part of
// `source_name`, or the current directory when it has none).
LoadResult load_file(const std::filesystem::path& path);
LoadResult load_string(std::string_view toml_text, const std::string& source_name);
LoadResult load_string(std::string_view toml_text, const std::string& source_name,
                       const std::filesystem::path& base_dir);

// The embedded default as TOML text (what `postern check --print-default`
// prints); embedded_default() is this text loaded against base_dir.
std::string embedded_default_toml();

// SPEC §2 embedded default, rooted at `base_dir` (normally the current
// directory): loopback listeners on 2025/2587/2465/2525, data in
// base_dir/postern-data, certificate and users file inside data_dir.
Config embedded_default(const std::filesystem::path& base_dir);

// The lints of `postern check`: insecure submission, role/port mismatch,
// certificate problems, open-relay-like settings, unusable data_dir.
std::vector<Problem> lint(const Config& config);

}  // namespace postern::config
