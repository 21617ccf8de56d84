// Parsing of the paths in MAIL FROM:<...> and RCPT TO:<...> (RFC 5321
// §4.1.2), including the old forms that open relays were abused through.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/text.hpp"

namespace postern::policy {

struct Mailbox {
  std::string local;    // as written, quotes removed for quoted local parts
  std::string domain;   // as written (case preserved); A-label or UTF-8
  bool quoted = false;  // local part was a quoted string
  // "local@domain"; a quoted local part is re-quoted when it needs it.
  std::string text() const;
};

struct Path {
  bool null = false;          // "<>"
  bool source_route = false;  // "<@a,@b:user@c>" (RFC 5321 §4.1.2, deprecated)
  Mailbox mailbox;
};

// Parses "<...>" (the angle brackets are required; a lone space after the
// colon is tolerated by the caller). `utf8` allows non-ASCII per RFC 6531.
// Returns nullopt on a syntax error (the caller answers 501 5.1.3 / 5.1.7).
std::optional<Path> parse_path(std::string_view text, bool utf8);

// The form two recipients are compared in to tell whether they name the
// same mailbox: the local part as written (RFC 5321 §2.4: it may be case
// sensitive, and our Maildir names keep it), the domain ASCII-lowercased
// without a trailing dot.
std::string normalized_address(const Mailbox& mailbox);

// Lowercases ASCII letters; used for domain comparison (core/text.hpp).
using postern::ascii_lower;

}  // namespace postern::policy
