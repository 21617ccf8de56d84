// The two faces of a walk: a report to read at a glance and the JSON
// document of docs/troubleshooting.md ("schema": 1; fields are only ever
// added).
#include "probe/report.hpp"

#include <cstdio>

namespace postern::probe {
std::string paint(std::string_view text, std::string_view colour, bool color) {
  if (!color) return std::string(text);
  return std::string(colour) + std::string(text) + std::string(kReset);
}

namespace {

std::string pad(std::string_view text, std::size_t width) {
  std::string out(text);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

std::string where(const ProbeResult& r) {
  const bool v6 = r.host.find(':') != std::string::npos;
  return (v6 ? "[" + r.host + "]" : r.host) + ":" + std::to_string(r.port);
}

std::string summary(const ProbeResult& r) {
  std::string out = where(r) + " works";
  switch (r.tls_found) {
    case TlsFound::implicit:
      out += " with implicit TLS (--tls implicit)";
      break;
    case TlsFound::starttls:
      out += r.tls_version.empty() ? " in plaintext; STARTTLS offered"
                                   : " with STARTTLS (--tls starttls)";
      break;
    case TlsFound::plaintext:
      out += " in plaintext, without TLS";
      break;
    case TlsFound::unknown:
      break;
  }
  if (!r.tls_version.empty()) out += ", " + r.tls_version;
  if (!r.auth_mechanisms.empty()) {
    out += ", AUTH";
    for (const std::string& m : r.auth_mechanisms) out += " " + m;
  }
  return out + ".";
}

}  // namespace

std::string render_text(const ProbeResult& r, bool color) {
  std::string out;
  for (const StepResult& s : r.steps) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%6lld ms", static_cast<long long>(s.elapsed.count()));
    out += "  " + pad(to_string(s.stage), 12) + " " +
           paint(s.ok ? "ok  " : "FAIL", s.ok ? kGreen : kRed, color) + " " + ms + "  " + s.detail +
           "\n";
  }
  if (r.ok()) {
    out += paint("OK", kGreen, color) + ": " + summary(r) + "\n";
    if (!r.queue_id.empty())
      out += "Queued as " + r.queue_id + "\n";
    else if (!r.server_reply.empty())
      out += "Server: " + r.server_reply + "\n";
    return out;
  }
  out += "\n" + paint("Diagnosis:", kBold, color) + " " + std::string(to_string(r.diagnosis)) +
         " (at " + std::string(to_string(r.failed_stage)) + ")\n";
  out += "  " + r.explanation + "\n";
  if (!r.advice.empty()) out += paint("Try:", kBold, color) + " " + r.advice + "\n";
  return out;
}

nlohmann::json to_json(const ProbeResult& r) {
  nlohmann::json j;
  j["host"] = r.host;
  j["port"] = r.port;
  j["addresses"] = r.addresses;
  j["address"] = r.address.empty() ? nlohmann::json() : nlohmann::json(r.address);
  j["ok"] = r.ok();
  j["diagnosis"] = std::string(to_string(r.diagnosis));
  j["failed_stage"] =
      r.ok() ? nlohmann::json() : nlohmann::json(std::string(to_string(r.failed_stage)));
  j["exit_status"] = exit_status(r.diagnosis);
  j["explanation"] = r.explanation;
  j["advice"] = r.advice;
  j["banner"] = r.banner;
  j["tls"] = {
      {"found", std::string(to_string(r.tls_found))},
      {"version", r.tls_version.empty() ? nlohmann::json() : nlohmann::json(r.tls_version)},
      {"cipher", r.tls_cipher.empty() ? nlohmann::json() : nlohmann::json(r.tls_cipher)},
      {"starttls_offered", r.starttls_offered},
  };
  if (r.certificate.present) {
    const CertificateInfo& c = r.certificate;
    j["certificate"] = {
        {"subject", c.subject},
        {"issuer", c.issuer},
        {"names", c.names},
        {"not_before", c.not_before},
        {"not_after", c.not_after},
        {"expired", c.expired},
        {"not_yet_valid", c.not_yet_valid},
        {"self_signed", c.self_signed},
        {"name_matches", c.name_matches},
        {"trusted", c.trusted},
        {"verify_error",
         c.verify_error.empty() ? nlohmann::json() : nlohmann::json(c.verify_error)},
    };
  } else {
    j["certificate"] = nullptr;
  }
  j["auth_mechanisms"] = r.auth_mechanisms;
  j["auth_mechanisms_before_tls"] = r.auth_mechanisms_before_tls;
  j["size_limit"] = r.size_limit ? nlohmann::json(*r.size_limit) : nlohmann::json();
  nlohmann::json steps = nlohmann::json::array();
  for (const StepResult& s : r.steps) {
    steps.push_back({{"stage", std::string(to_string(s.stage))},
                     {"ok", s.ok},
                     {"ms", s.elapsed.count()},
                     {"detail", s.detail}});
  }
  j["steps"] = std::move(steps);
  j["server_reply"] = r.server_reply.empty() ? nlohmann::json() : nlohmann::json(r.server_reply);
  j["queue_id"] = r.queue_id.empty() ? nlohmann::json() : nlohmann::json(r.queue_id);
  return j;
}

std::string render_json(const ProbeResult& r, std::string_view command) {
  nlohmann::json j = {{"schema", 1}, {"command", std::string(command)}};
  j.update(to_json(r));
  // Replace invalid UTF-8 a server may send instead of throwing.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace postern::probe
