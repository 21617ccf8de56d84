// The DNS records a local domain needs (SPEC §1.7), as text ready to paste:
// MX, A/AAAA of the hostname, SPF, each DKIM selector, DMARC and the PTR of
// each address. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dns_records/server_identity.hpp"

namespace postern::dns_records {

enum class Kind { mx, a, aaaa, spf, dkim, dmarc, ptr };
const char* kind_label(Kind kind);  // "MX", "A", "AAAA", "SPF", "DKIM", "DMARC", "PTR"

struct DnsRecord {
  Kind kind = Kind::mx;
  std::string name;   // owner name without the trailing dot
  std::string type;   // "MX", "A", "AAAA", "TXT", "PTR"
  std::string value;  // the single value a registrar's form wants
  std::string note;   // where it is set or what to do next; may be empty
};

std::vector<DnsRecord> required_records(const ServerIdentity& server);

// The SPF record this server needs: its addresses (no DNS lookups spent,
// RFC 7208 §4.6.4), or a:hostname when they are unknown; "-all" for the
// rest.
std::string spf_record_for(const ServerIdentity& server);

// The DMARC record to start with (RFC 7489 §6.3): p=none, reports to
// postmaster@domain.
std::string dmarc_record_for(const std::string& domain);

// A TXT value as zone-file character-strings: quoted, each at most 255
// octets (RFC 1035 §3.3.14), '"' and '\' escaped.
std::string quoted_txt(std::string_view value);

// "name. IN TYPE value" as a zone-file line (TXT quoted and split), the
// columns aligned for a list, or single-spaced to quote inside a sentence.
std::string zone_line(const DnsRecord& record, bool aligned = true);

// The reverse-lookup name of an IPv4 or IPv6 address; empty if not one.
std::string reverse_name(const std::string& address);

}  // namespace postern::dns_records
