// How a port scan is shown: an aligned table, one row per port, then the
// recommendation; and the JSON document of docs/troubleshooting.md
// ("schema": 1, "command": "probe", each port's walk as in report.hpp).
#pragma once

#include <string>

#include "probe/port_scan.hpp"

namespace postern::probe {

// PORT REACHABLE TLS VERSION AUTH CERTIFICATE RESULT, then
// "Recommendation: ...". Colour only when asked (a terminal).
std::string render_scan_text(const ScanReport& report, bool color);

// {"schema": 1, "command": "probe", "host": ..., "exit_status": ...,
//  "ports": [{"port", "reachable", ...to_json(result)}],
//  "recommendation": {"port", "tls", "reason", "relay_port"}}
std::string render_scan_json(const ScanReport& report);

// "starttls", "implicit", "none", "auto": the --tls spelling.
std::string_view tls_option_name(TlsChoice choice);

}  // namespace postern::probe
