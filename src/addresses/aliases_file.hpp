// The aliases file (SPEC §1.9, [addresses] aliases_file): one alias per line,
//
//   info@example.com: alice@example.com, bob@example.com
//   @example.org: catchall@example.com        # catch-all of a local domain
//   root: admin@example.com                   # bare name: the default domain
//
// '#' starts a comment (at the start of a line or after white space); a
// line that begins with white space continues the previous one, as in
// /etc/aliases. Pipes ("|cmd"), files ("/path") and ":include:" are
// refused: postern delivers to mailboxes and addresses only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace postern::addresses {

struct AliasEntry {
  // "info@example.com" (local part and domain lowercased, RFC 5321 §2.4
  // allows a server to treat local parts without case, and every other
  // server does) or "@example.com" for a catch-all.
  std::string alias;
  // Targets in file order, duplicates removed: local part kept as written
  // (a remote server may care), domain lowercased.
  std::vector<std::string> targets;
  int line = 0;
};

struct AliasFile {
  std::vector<AliasEntry> entries;
  // "aliases:3: ... (fix)", one per bad line; a file with errors is refused
  // whole (SPEC §1.11) by whoever loads it.
  std::vector<std::string> errors;
};

// `name` prefixes the errors ("/etc/postern/aliases"); `default_domain`
// qualifies bare names on either side of the colon.
AliasFile parse_aliases(std::string_view text, std::string_view name,
                        std::string_view default_domain);

// "Alice@Example.COM" -> "alice@example.com"; a bare name gets
// `default_domain`. Used for every lookup key.
std::string canonical_address(std::string_view address, std::string_view default_domain = {});

}  // namespace postern::addresses
