// The port scan's two faces: an aligned table to read at a glance and the
// JSON document (schema 1; fields are only ever added).
#include "probe/scan_report.hpp"

#include <array>

#include "core/text.hpp"
#include "probe/report.hpp"

namespace postern::probe {
namespace {

std::string tls_mode(const ProbeResult& r) {
  switch (r.tls_found) {
    case TlsFound::implicit:
      return "implicit";
    case TlsFound::starttls:
      return r.tls_version.empty() ? "starttls (not upgraded)" : "starttls";
    case TlsFound::plaintext:
      return "none";
    case TlsFound::unknown:
      break;
  }
  return "-";
}

std::string auth_column(const ProbeResult& r) {
  if (!r.auth_mechanisms.empty()) return join(r.auth_mechanisms, " ");
  if (!r.auth_mechanisms_before_tls.empty())
    return join(r.auth_mechanisms_before_tls, " ") + " (before TLS)";
  return "-";
}

std::string certificate_column(const CertificateInfo& c) {
  if (!c.present) return "-";
  if (c.expired) return "expired";
  if (c.not_yet_valid) return "not yet valid";
  if (c.self_signed && !c.trusted) return "self-signed";
  if (!c.name_matches) return "name mismatch";
  if (!c.trusted) return "untrusted";
  return "ok";
}

std::string result_column(const PortRow& row) {
  if (row.result.ok()) return "ok";
  return std::string(to_string(row.result.diagnosis));
}

}  // namespace

std::string_view tls_option_name(TlsChoice choice) {
  switch (choice) {
    case TlsChoice::starttls:
      return "starttls";
    case TlsChoice::implicit:
      return "implicit";
    case TlsChoice::none:
      return "none";
    case TlsChoice::automatic:
      break;
  }
  return "auto";
}

std::string render_scan_text(const ScanReport& report, bool color) {
  constexpr std::size_t kColumns = 7;
  using Row = std::array<std::string, kColumns>;
  std::vector<Row> table;
  table.push_back({"PORT", "REACHABLE", "TLS", "VERSION", "AUTH", "CERTIFICATE", "RESULT"});
  for (const PortRow& row : report.rows) {
    const ProbeResult& r = row.result;
    table.push_back({std::to_string(row.port), row.reachable ? "yes" : "no", tls_mode(r),
                     r.tls_version.empty() ? "-" : r.tls_version, auth_column(r),
                     certificate_column(r.certificate), result_column(row)});
  }
  std::array<std::size_t, kColumns> width{};
  for (const Row& row : table)
    for (std::size_t c = 0; c < kColumns; ++c) width[c] = std::max(width[c], row[c].size());

  std::string out;
  for (std::size_t i = 0; i < table.size(); ++i) {
    std::string line;
    for (std::size_t c = 0; c < kColumns; ++c) {
      std::string cell = table[i][c];
      const std::size_t padding = c + 1 < kColumns ? width[c] - cell.size() + 2 : 0;
      // Colour the reachable column only; padding is computed on the plain text.
      if (i > 0 && c == 1) cell = paint(cell, cell == "yes" ? kGreen : kRed, color);
      line += cell + std::string(padding, ' ');
    }
    out += "  " + line + "\n";
  }
  const Recommendation& rec = report.recommendation;
  const std::string head = paint("Recommendation:", kBold, color);
  out += "\n" + head + " ";
  if (rec.port) {
    out += "port " + std::to_string(*rec.port) + " with --tls " +
           std::string(tls_option_name(rec.tls)) + ". " + rec.reason + "\n";
  } else {
    out += "none. " + rec.reason + "\n";
  }
  return out;
}

std::string render_scan_json(const ScanReport& report) {
  nlohmann::json ports = nlohmann::json::array();
  for (const PortRow& row : report.rows) {
    nlohmann::json j = {{"port", row.port}, {"reachable", row.reachable}};
    j.update(to_json(row.result));
    j["port"] = row.port;
    ports.push_back(std::move(j));
  }
  const Recommendation& rec = report.recommendation;
  nlohmann::json doc = {
      {"schema", 1},
      {"command", "probe"},
      {"host", report.host},
      {"exit_status", exit_status(report)},
      {"ports", std::move(ports)},
      {"recommendation",
       {{"port", rec.port ? nlohmann::json(*rec.port) : nlohmann::json()},
        {"tls",
         rec.port ? nlohmann::json(std::string(tls_option_name(rec.tls))) : nlohmann::json()},
        {"reason", rec.reason},
        {"relay_port", rec.relay_port ? nlohmann::json(*rec.relay_port) : nlohmann::json()}}},
  };
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace postern::probe
