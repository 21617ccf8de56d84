// Line endings of stored messages (RFC 5322 §2.1: CR and LF occur only
// together, as CRLF). The one place that turns bare CR and bare LF into
// CRLF, for SMTP content (BDAT), local submissions and generated messages:
// a bare line end passed onward is what SMTP smuggling exploits.
#pragma once

#include <string>
#include <string_view>

namespace postern::message {

// Every bare CR and bare LF becomes CRLF; CRLF stays. Nothing is added.
std::string normalize_line_endings(std::string_view in);

// normalize_line_endings(), and a missing final line end is added, so the
// text always ends in CRLF; empty text stays empty.
std::string to_crlf_lines(std::string_view text);

}  // namespace postern::message
