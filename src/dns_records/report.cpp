#include "dns_records/report.hpp"

namespace postern::dns_records {

std::string render_text(const DomainReport& r) {
  const std::string about = r.server.domain + " (hostname " + r.server.hostname + ")";
  std::string out =
      r.findings ? "What DNS says about " + about + ":\n\n" : "Records " + about + " needs:\n\n";
  for (const auto& note : r.notes) out += "  (" + note + ")\n";
  if (!r.notes.empty()) out += "\n";
  if (!r.findings) {
    for (const auto& record : r.records) {
      out += "  " + std::string(kind_label(record.kind)) + ": " + record.note + "\n";
      out += "    " + zone_line(record) + "\n";
      if (record.type == "TXT" && record.value.size() > 255) {
        out += "    as one value (a registrar's form): " + record.value + "\n";
      }
    }
    return out;
  }
  // With the check, each failure's fix names the record to publish; the
  // list itself would only repeat them.
  for (const auto& f : *r.findings) {
    const char* mark = f.status == Status::ok        ? "ok  "
                       : f.status == Status::warning ? "WARN"
                                                     : "FAIL";
    out += "  " + std::string(mark) + "  " + kind_label(f.kind) + ": " + f.message + "\n";
    if (!f.fix.empty()) out += "        fix: " + f.fix + "\n";
  }
  return out;
}

nlohmann::json render_json(const DomainReport& r) {
  nlohmann::json records = nlohmann::json::array();
  for (const auto& record : r.records) {
    records.push_back({{"kind", kind_label(record.kind)},
                       {"name", record.name},
                       {"type", record.type},
                       {"value", record.value},
                       {"zone_line", zone_line(record)},
                       {"note", record.note}});
  }
  nlohmann::json out = {{"domain", r.server.domain},
                        {"hostname", r.server.hostname},
                        {"addresses", r.server.addresses},
                        {"records", records},
                        {"notes", r.notes}};
  if (r.findings) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : *r.findings) {
      findings.push_back({{"kind", kind_label(f.kind)},
                          {"status", status_name(f.status)},
                          {"code", f.code},
                          {"message", f.message},
                          {"fix", f.fix}});
      if (!f.spf_result.empty()) findings.back()["spf_result"] = f.spf_result;
    }
    out["findings"] = findings;
  }
  return out;
}

bool has_failures(const DomainReport& r) {
  if (!r.findings) return false;
  for (const auto& f : *r.findings) {
    if (f.status == Status::fail) return true;
  }
  return false;
}

}  // namespace postern::dns_records
