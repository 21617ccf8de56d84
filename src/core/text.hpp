// The small text vocabulary every floor shares. Mail protocols fold case in
// ASCII only (RFC 5321 §2.4: verbs, keywords and domains are case-
// insensitive in US-ASCII; local parts are not folded), so nothing here
// depends on the C locale.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace postern {

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr char ascii_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string ascii_lower(std::string_view text);
std::string ascii_upper(std::string_view text);

// Equal when compared with ASCII letters folded.
bool iequals(std::string_view a, std::string_view b);
// `text` starts with `prefix`, ASCII letters folded.
bool istarts_with(std::string_view text, std::string_view prefix);

// Any octet >= 0x80 (8BITMIME data, SMTPUTF8 addresses).
bool has_non_ascii(std::string_view text);

// Leading and trailing spaces and tabs removed.
std::string_view trim_blanks(std::string_view text);
// Words separated by runs of spaces or tabs.
std::vector<std::string> split_words(std::string_view text);
std::string join(const std::vector<std::string>& items, std::string_view separator);
// `text` with every control character (C0 and DEL) replaced by '?': what
// came from the network or a log file, shown on an operator's terminal,
// can then neither move the cursor nor forge lines.
std::string printable(std::string_view text);

// A name DNS can be asked about, in the A-label form (RFC 1035 §2.3.4):
// dot-separated labels of 1 to 63 letters, digits, "-" or "_" (DKIM
// selectors and _dmarc names have underscores), at most 253 octets, no
// empty label (so no leading or trailing dot). An address literal or a
// U-label is not one.
bool is_dns_name(std::string_view name);

}  // namespace postern
