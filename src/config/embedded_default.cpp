// The embedded default (SPEC §2, last paragraph): what `postern serve` runs
// without --config. It is kept as TOML text so that the operator can print
// it (`postern check --print-default`) and start a real configuration from
// it, and so that it goes through exactly the same loader as any file.
#include "config/config.hpp"

namespace postern::config {

std::string embedded_default_toml() {
  return R"(# postern embedded default: safe to start anywhere.
# Everything listens on loopback only, on unprivileged ports, so nothing here
# is reachable from the network until you copy this file and change it.
# Relative paths are resolved against the directory of this file (for the
# embedded default: the directory postern was started in).

hostname      = "localhost"
data_dir      = "postern-data"      # spool/, mail/, tls/ and users live here
local_domains = ["localhost"]
relay_networks = []                 # nobody relays without AUTH

[tls]
# Generated (self-signed, EC P-256) on the first `postern serve`.
cert = "postern-data/tls/cert.pem"
key  = "postern-data/tls/key.pem"

[auth]
# The first user and its password are created and printed on first start.
users_file = "postern-data/users"

# MTA-to-MTA relay: accepts mail for local_domains only; STARTTLS offered.
[[listener]]
address = "127.0.0.1:2025"
role    = "relay"
tls     = "starttls"

# Submission (RFC 6409): AUTH only after STARTTLS.
[[listener]]
address = "127.0.0.1:2587"
role    = "submission"
tls     = "starttls-required"

# Submission over implicit TLS (RFC 8314).
[[listener]]
address = "127.0.0.1:2465"
role    = "submission"
tls     = "implicit"

# Alternate submission port, for networks that block 587.
[[listener]]
address = "127.0.0.1:2525"
role    = "submission"
tls     = "starttls-required"

[limits]
max_message_size    = 36700160
max_recipients      = 100
idle_timeout        = "300s"
max_sessions        = 10000
max_sessions_per_ip = 50
max_errors          = 10

[log]
target = "stderr"
)";
}

}  // namespace postern::config
