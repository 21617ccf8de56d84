// Looking into the header section of a message (RFC 5322 §2.1, §2.2): the
// lines before the first empty line. Only that part is searched, so a
// "Date:" line in the body never counts.
#pragma once

#include <string_view>

namespace postern::message {

// True when the header section of `message` has a field called `name`
// (case-insensitive, without the colon; white space before the colon, the
// obsolete form of RFC 5322 §4.5, counts too). Content that does not begin
// with a header field has no header section, so this is false for it.
bool has_header(std::string_view message, std::string_view name);

// True when `message` begins with a header field ("name:"), false when it
// begins with an empty line, with body text, or is empty.
bool starts_with_header_field(std::string_view message);

}  // namespace postern::message
