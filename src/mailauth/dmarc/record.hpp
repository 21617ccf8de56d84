// A DMARC policy record's syntax (RFC 7489 §6.3, §6.4): which TXT records
// are DMARC records, and the tags a receiver acts on. Pure: fed the text of
// one TXT record (its character-strings already concatenated).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::mailauth::dmarc {

// p= and sp= (§6.3); also the disposition a receiver applies (§6.6.4).
enum class Policy { none, quarantine, reject };
const char* policy_name(Policy policy);  // "none", "quarantine", "reject"

// adkim= and aspf= (§3.1.1, §3.1.2).
enum class Alignment { relaxed, strict };
const char* alignment_name(Alignment alignment);  // "r", "s"

struct Record {
  Policy policy = Policy::none;            // p=
  Policy subdomain_policy = Policy::none;  // sp=; p= when absent
  int percent = 100;                       // pct=, 0..100
  Alignment dkim_alignment = Alignment::relaxed;
  Alignment spf_alignment = Alignment::relaxed;
  std::vector<std::string> rua;  // reporting URIs, kept as written (we send no reports)
  std::vector<std::string> ruf;
  // §6.6.3 step 6: p= (or sp=) was missing or invalid but rua= names a valid
  // URI, so the record counts as p=none. `note` says what was wrong.
  bool policy_defaulted = false;
  std::string note;
  std::string text;  // the record as published, for messages
};

// §6.6.3 steps 2 and 4: a record is a DMARC record when its first tag is
// v=DMARC1 (the value exactly so, §6.3 "v"); other TXT records at _dmarc
// are discarded, not errors.
bool is_dmarc_record(std::string_view txt);

// Parses a record for which is_dmarc_record() holds. nullopt and `error`
// (in plain words, naming the tag) when the record is unusable: a malformed
// tag list, a duplicate tag, an invalid p=/sp= without a valid rua= (§6.6.3
// step 6), or an invalid adkim=, aspf= or pct=. Unknown tags are ignored
// (§6.3).
std::optional<Record> parse_record(std::string_view txt, std::string& error);

}  // namespace postern::mailauth::dmarc
