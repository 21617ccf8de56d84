// The RFC 5322 helpers local submission uses live in src/message (the SMTP
// session needs them too); these names keep src/control's code as it was.
#pragma once

#include "message/message_text.hpp"

namespace postern::control {

inline bool has_header(std::string_view m, std::string_view name) {
  return message::has_field(m, name);
}
using message::header_section_end;
using message::header_values;
using message::parse_address_list;
using message::remove_header;
using message::rfc5322_date_utc;
using message::to_crlf;

}  // namespace postern::control
