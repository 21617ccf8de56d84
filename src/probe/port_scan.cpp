// The port scan of `postern probe HOST` (SPEC §3.1): each port walked with
// --tls auto at most `parallel` at a time, then the port the guides agree
// on. recommend() is pure so every branch is unit-tested.
#include "probe/port_scan.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "probe/scan_report.hpp"

namespace postern::probe {
namespace {

// The handshake completed, whatever happened after it (a certificate or
// AUTH problem leaves the port usable once fixed).
bool tls_works(const ProbeResult& r) {
  return !r.tls_version.empty() &&
         (r.tls_found == TlsFound::starttls || r.tls_found == TlsFound::implicit);
}

bool certificate_problem(Diagnosis d) {
  switch (d) {
    case Diagnosis::certificate_expired:
    case Diagnosis::certificate_not_yet_valid:
    case Diagnosis::certificate_self_signed:
    case Diagnosis::certificate_name_mismatch:
    case Diagnosis::certificate_untrusted:
      return true;
    default:
      return false;
  }
}

bool auth_problem(Diagnosis d) {
  switch (d) {
    case Diagnosis::auth_not_offered:
    case Diagnosis::auth_not_offered_before_tls:
    case Diagnosis::auth_mechanism_unsupported:
    case Diagnosis::auth_failed:
    case Diagnosis::auth_temporary:
      return true;
    default:
      return false;
  }
}

// Usable for submission once TLS works: the walk got through TLS, and what
// stopped it (if anything) came later than the handshake.
bool usable(const PortRow& row) {
  if (!row.reachable || !tls_works(row.result)) return false;
  const ProbeResult& r = row.result;
  return r.ok() || r.failed_stage >= Stage::certificate;
}

// Lower is better; none when the row is not a submission candidate.
std::optional<int> rank(const PortRow& row) {
  if (row.port == 25 || !usable(row)) return std::nullopt;
  if (row.port == 587 && row.result.tls_found == TlsFound::starttls) return 0;
  // RFC 8314 §3.3: implicit TLS on 465 is as good as STARTTLS on 587.
  if (row.port == 465 && row.result.tls_found == TlsFound::implicit) return 1;
  // 2525 (and a provider's 2587/2465): not standard, but open where 587 is
  // blocked.
  return 2;
}

std::string mode_words(const ProbeResult& r) {
  std::string out = r.tls_found == TlsFound::implicit ? "implicit TLS" : "STARTTLS";
  if (!r.tls_version.empty()) out += " (" + r.tls_version + ")";
  return out;
}

std::string short_failure(const PortRow& row) {
  if (row.result.ok()) {
    if (row.result.tls_found == TlsFound::plaintext) return "plaintext only, no STARTTLS";
    return "works";
  }
  return std::string(to_string(row.result.diagnosis));
}

// What is still wrong on the chosen port, in plain words.
std::string caveat(const PortRow& row) {
  const ProbeResult& r = row.result;
  if (r.ok()) return "";
  std::string out;
  if (certificate_problem(r.diagnosis)) {
    out = "; but its certificate is not accepted (" + std::string(to_string(r.diagnosis)) + ")";
  } else if (auth_problem(r.diagnosis)) {
    out = "; but AUTH did not work (" + std::string(to_string(r.diagnosis)) + ")";
  } else {
    out = "; but the walk stopped at " + std::string(to_string(r.failed_stage)) + " (" +
          std::string(to_string(r.diagnosis)) + ")";
  }
  if (!r.explanation.empty()) out += ": " + r.explanation;
  return out;
}

const PortRow* find_port(const std::vector<PortRow>& rows, std::uint16_t port) {
  for (const PortRow& row : rows)
    if (row.port == port) return &row;
  return nullptr;
}

// The row that got furthest along the walk, and that failed.
const PortRow* most_advanced_failure(const std::vector<PortRow>& rows) {
  const PortRow* best = nullptr;
  for (const PortRow& row : rows) {
    if (row.result.ok()) continue;
    if (best == nullptr || row.result.failed_stage > best->result.failed_stage) best = &row;
  }
  return best;
}

}  // namespace

bool reachable(const ProbeResult& r) {
  const bool connected = std::any_of(r.steps.begin(), r.steps.end(), [](const StepResult& s) {
    return s.stage == Stage::connect && s.ok;
  });
  if (!connected) return false;
  switch (r.diagnosis) {
    case Diagnosis::name_not_found:
    case Diagnosis::dns_failure:
    case Diagnosis::connect_timeout:
    case Diagnosis::connect_refused:
    case Diagnosis::network_unreachable:
    case Diagnosis::banner_timeout:
      return false;
    default:
      return true;
  }
}

Recommendation recommend(const std::vector<PortRow>& rows) {
  Recommendation rec;
  const PortRow* chosen = nullptr;
  int chosen_rank = 0;
  for (const PortRow& row : rows) {
    const auto r = rank(row);
    if (r && (chosen == nullptr || *r < chosen_rank)) {
      chosen = &row;
      chosen_rank = *r;
    }
  }
  const PortRow* relay = find_port(rows, 25);
  if (relay != nullptr && relay->reachable) rec.relay_port = 25;

  if (chosen != nullptr) {
    const ProbeResult& r = chosen->result;
    rec.port = chosen->port;
    rec.tls = r.tls_found == TlsFound::implicit ? TlsChoice::implicit : TlsChoice::starttls;
    const std::string port = std::to_string(chosen->port);
    const PortRow* p587 = find_port(rows, 587);
    const std::string why_not_587 = p587 == nullptr ? "" : " (587: " + short_failure(*p587) + ")";
    if (chosen_rank == 0) {
      rec.reason = "587 answers with " + mode_words(r) +
                   ": the standard submission port (RFC 6409), use --tls starttls";
    } else if (chosen_rank == 1) {
      rec.reason = "465 answers with " + mode_words(r) +
                   ": submission over implicit TLS (RFC 8314), use --tls implicit" + why_not_587;
    } else {
      rec.reason = port + " answers with " + mode_words(r) +
                   ": not a standard port, but providers open it where 587 is blocked; use --tls " +
                   std::string(tls_option_name(rec.tls)) + why_not_587;
    }
    rec.reason += caveat(*chosen);
    return rec;
  }

  // Nothing usable for submission. Say why, most useful fact first.
  std::string reason;
  for (const PortRow& row : rows) {
    if (row.port != 25 && row.reachable && row.result.ok() &&
        row.result.tls_found == TlsFound::plaintext) {
      reason = std::to_string(row.port) +
               " answers but offers no STARTTLS: a password would cross the network in clear. ";
      break;
    }
  }
  if (rec.relay_port) {
    reason +=
        "Port 25 answers, but port 25 is for server-to-server relay (MTA to MTA): "
        "submission on 25 is blocked by most ISPs and clouds and rarely offers AUTH. "
        "No submission port (587, 465, 2525) is usable";
  } else {
    reason += "No port is usable for submission";
  }
  if (const PortRow* worst = most_advanced_failure(rows); worst != nullptr) {
    reason += "; the furthest any port got: " + std::to_string(worst->port) + " " +
              std::string(to_string(worst->result.diagnosis)) + " at " +
              std::string(to_string(worst->result.failed_stage));
    std::string explanation = worst->result.explanation;
    while (!explanation.empty() && explanation.back() == '.') explanation.pop_back();
    if (!explanation.empty()) reason += " (" + explanation + ")";
  }
  rec.reason = reason + ".";
  return rec;
}

int exit_status(const ScanReport& report) {
  if (report.recommendation.port) {
    const PortRow* chosen = find_port(report.rows, *report.recommendation.port);
    return chosen == nullptr ? 0 : exit_status(chosen->result.diagnosis);
  }
  if (const PortRow* worst = most_advanced_failure(report.rows); worst != nullptr)
    return exit_status(worst->result.diagnosis);
  // Every walk "worked" but none with TLS for submission (plaintext or 25).
  return exit_status(Diagnosis::starttls_not_offered);
}

ScanReport scan_ports(const ProbeOptions& base, const std::vector<PresetPort>& ports,
                      std::size_t parallel) {
  ScanReport report;
  report.host = base.host;
  report.rows.resize(ports.size());
  // Walks run at once; their -v lines are kept whole and tagged by port.
  auto transcript_mutex = std::make_shared<std::mutex>();
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < ports.size(); i = next++) {
      ProbeOptions o = base;
      o.port = ports[i].port;
      o.tls = base.tls == TlsChoice::automatic ? ports[i].tls : base.tls;
      if (base.transcript) {
        const std::string tag = "[" + std::to_string(o.port) + "] ";
        o.transcript = [tag, transcript_mutex, sink = base.transcript](const TranscriptLine& l) {
          TranscriptLine tagged = l;
          tagged.text = tag + l.text;
          const std::lock_guard lock(*transcript_mutex);
          sink(tagged);
        };
      }
      PortRow row;
      row.port = o.port;
      row.result = run_probe(o);
      row.reachable = reachable(row.result);
      report.rows[i] = std::move(row);
    }
  };
  const std::size_t n =
      std::clamp<std::size_t>(parallel, 1, std::max<std::size_t>(1, ports.size()));
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (std::size_t t = 0; t < n; ++t) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  report.recommendation = recommend(report.rows);
  return report;
}

ScanReport scan_ports(const ProbeOptions& base, const std::vector<std::uint16_t>& ports,
                      std::size_t parallel) {
  std::vector<PresetPort> with_mode;
  with_mode.reserve(ports.size());
  for (std::uint16_t p : ports) with_mode.push_back({p, TlsChoice::automatic});
  return scan_ports(base, with_mode, parallel);
}

}  // namespace postern::probe
