// `postern probe HOST` without a port: the submission ports tried at once
// (bounded), one row per port, and the port to use, in the order the guides
// agree on (SPEC §3.1): 587 with STARTTLS; 465 when only implicit TLS works;
// 2525 when 587 is blocked; 25 only for server-to-server relay.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probe/presets.hpp"
#include "probe/probe.hpp"

namespace postern::probe {

// The ports tried when none is given, in the order rows are printed.
inline constexpr std::uint16_t kScanPorts[] = {587, 465, 2525, 25};

struct PortRow {
  std::uint16_t port = 0;
  ProbeResult result;      // the walk with --tls auto (and credentials when given)
  bool reachable = false;  // TCP connect worked and a banner or TLS came back
};

struct Recommendation {
  std::optional<std::uint16_t> port;  // none: nothing usable
  TlsChoice tls = TlsChoice::automatic;
  std::string reason;  // plain words: "587 answers with STARTTLS: the standard submission port"
  // Set when port 25 answers: usable for server-to-server relay only, never
  // recommended for submission (RFC 6409 §1; blocked by most ISPs and clouds).
  std::optional<std::uint16_t> relay_port;
};

struct ScanReport {
  std::string host;
  std::vector<PortRow> rows;  // in the order of `ports`
  Recommendation recommendation;
};

// Probes each port with `base` (its port is ignored), at most `parallel` at
// a time. Never throws for network trouble.
ScanReport scan_ports(const ProbeOptions& base, const std::vector<std::uint16_t>& ports,
                      std::size_t parallel = 4);

// The same over a preset's documented ports, each walked with its own TLS
// mode unless `base.tls` is not automatic (the user's --tls wins).
ScanReport scan_ports(const ProbeOptions& base, const std::vector<PresetPort>& ports,
                      std::size_t parallel = 4);

// Whether a walk counts as reachable: TCP connected and a banner or a TLS
// handshake came back.
bool reachable(const ProbeResult& result);

// The guides' order, as a pure function of the rows (unit-tested).
Recommendation recommend(const std::vector<PortRow>& rows);

// Exit status for a scan: 0 when a port is recommended and its walk worked;
// the recommended port's own status when it is usable but something after
// TLS failed (certificate, AUTH); otherwise the status of the most advanced
// failure among the rows.
int exit_status(const ScanReport& report);

}  // namespace postern::probe
