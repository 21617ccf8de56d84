// The DKIM key record published at SELECTOR._domainkey.DOMAIN
// (RFC 6376 §3.6.1, RFC 8463 §4.2), and how it is split into the
// character-strings of a TXT record (RFC 1035 §3.3.14: at most 255 octets
// each, concatenated by the reader, RFC 6376 §3.6.2.2).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailauth/dkim/key.hpp"

namespace postern::mailauth::dkim {

struct KeyRecord {
  Algorithm key_type = Algorithm::rsa_sha256;  // k=, default rsa
  std::string public_key;                      // p= decoded; empty = revoked
  std::string public_key_base64;               // p= as published, white space removed
  bool revoked() const { return public_key.empty(); }
  bool testing = false;          // t=y: the domain is testing DKIM
  bool strict_identity = false;  // t=s: i= must be in d= itself, no subdomain
  bool allows_sha256 = true;     // h= absent or naming sha256
  bool allows_email = true;      // s= absent, "*" or naming email
};

struct KeyRecordResult {
  std::optional<KeyRecord> record;
  std::string error;  // why the record is unusable (a permerror, §6.1.2)
};

// `txt` is one TXT record with its strings already concatenated.
KeyRecordResult parse_key_record(std::string_view txt);

// The DNS name to query: "SELECTOR._domainkey.DOMAIN" (§3.6.2.1).
std::string key_record_name(std::string_view selector, std::string_view domain);

// The record split into strings of at most 255 octets (§3.6.2.2). Splits
// fall between tags where that keeps every string within the limit, so a
// form that joins strings with a space still reads the record correctly.
std::vector<std::string> split_txt_strings(std::string_view record);

// A zone-file line:  NAME. 3600 IN TXT ( "v=DKIM1; k=rsa; " "p=..." )
std::string zone_file_line(std::string_view selector, std::string_view domain,
                           std::string_view record);

}  // namespace postern::mailauth::dkim
