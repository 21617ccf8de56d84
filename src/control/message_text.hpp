// Small pieces of RFC 5322 message handling that local submission needs:
// line-ending normalisation, looking up and removing header fields, and
// reading addresses out of To:/Cc:/Bcc:. Local to src/control so that the
// control module stands on its own (the SMTP session has its own).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace postern::control {

// Where the header section of a CRLF message ends: the offset just after the
// CRLF of its last field, where the empty separator line (or the end)
// begins. 0 when the message does not begin with a header field ("name:"),
// as for content that is all body.
std::size_t header_section_end(std::string_view message);

// True when the header section has a field called `name` (case-insensitive).
bool has_header(std::string_view message, std::string_view name);

// The values of every field called `name`, unfolded (RFC 5322 §2.2.3: the
// CRLF before white space is removed) and without the leading blank.
std::vector<std::string> header_values(std::string_view message, std::string_view name);

// The message without any field called `name` (continuation lines
// included); the body is untouched.
std::string remove_header(std::string_view message, std::string_view name);

// The addr-specs of an RFC 5322 §3.4 address-list: "a@b", "Name <a@b>",
// "\"Doe, J\" <a@b>", groups ("team: a@b, c@d;"), comments ("a@b (x)").
// Empty entries are skipped; the route of obsolete angle-addrs is dropped.
std::vector<std::string> parse_address_list(std::string_view value);

}  // namespace postern::control
