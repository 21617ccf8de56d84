// How `postern dns` shows the records and the findings: text for people,
// JSON (schema 1) for scripts. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dns_records/record_check.hpp"
#include "dns_records/required_records.hpp"

namespace postern::dns_records {

struct DomainReport {
  ServerIdentity server;
  std::vector<DnsRecord> records;
  std::optional<std::vector<Finding>> findings;  // with --check
  std::vector<std::string> notes;                // e.g. where the addresses came from
};

std::string render_text(const DomainReport& report);
nlohmann::json render_json(const DomainReport& report);

// Whether any finding is a failure (warnings do not count).
bool has_failures(const DomainReport& report);

}  // namespace postern::dns_records
