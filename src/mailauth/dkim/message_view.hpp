// A message seen as DKIM sees it (RFC 6376 §3.4, §5.4.2): a list of header
// fields, each with its folded continuation lines, and the body after the
// first empty line. Views into the caller's bytes; nothing is copied.
#pragma once

#include <string_view>
#include <vector>

namespace postern::mailauth::dkim {

struct HeaderField {
  std::string_view name;  // before the colon, white space before it removed
  std::string_view text;  // the whole field, name to the line break that ends it, inclusive
  // After the colon up to (not including) the final line break.
  std::string_view value() const;
};

struct MessageView {
  std::vector<HeaderField> fields;  // in message order, top first
  std::string_view body;            // after the empty line; empty when there is none
};

// Lines end with CRLF (a bare LF is accepted as a line end too). A line that
// starts with SP or TAB continues the previous field; the first empty line
// ends the header section. A line without a colon becomes a field with an
// empty name, which no h= list can select.
MessageView parse_message(std::string_view message);

// ASCII case-insensitive comparison, for field names (RFC 5322 §1.2.2).
bool iequals(std::string_view a, std::string_view b);

}  // namespace postern::mailauth::dkim
