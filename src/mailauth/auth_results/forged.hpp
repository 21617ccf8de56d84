// Removing forged Authentication-Results fields (RFC 8601 §5): a field that
// arrives already carrying our authserv-id was not written by us, and
// downstream filters would trust it. Pure: works on the message's bytes and
// returns positions, so the edge copies the body at most once.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::mailauth {

struct ByteRange {
  std::size_t begin = 0;  // offset of the field's name
  std::size_t end = 0;    // one past the line break that ends the field (with its folded lines)
  bool operator==(const ByteRange&) const = default;
};

// The authserv-id of an Authentication-Results field value (the text after
// the colon): CFWS skipped, comments nested (§2.2), a quoted-string
// unquoted; nullopt when there is none.
std::optional<std::string> authserv_id_of(std::string_view field_value);

// The Authentication-Results fields of the header section of `message`
// (up to the first empty line; the body is not read) whose authserv-id is
// `authserv_id`, compared case-insensitively, top first.
std::vector<ByteRange> forged_auth_results(std::string_view message, std::string_view authserv_id);

struct FilteredHeader {
  std::string header;  // the header section without the forged fields
  std::size_t body_offset =
      0;  // where the rest of the message (empty line and body) starts in `message`
  std::size_t removed = 0;  // fields removed
};

// The header section of `message` without the forged fields; the caller
// writes `header`, then message.substr(body_offset). Only the header
// section is copied.
FilteredHeader remove_forged_auth_results(std::string_view message, std::string_view authserv_id);

}  // namespace postern::mailauth
