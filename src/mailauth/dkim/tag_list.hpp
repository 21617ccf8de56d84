// DKIM tag=value lists (RFC 6376 §3.2), the syntax of both the
// DKIM-Signature header field and the key record published in DNS.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::mailauth::dkim {

struct Tag {
  std::string_view name;
  // The value with surrounding white space removed; internal folding white
  // space is kept (callers that need it gone, such as base64, skip it).
  // Points into the parsed text, so its position can be used to cut the
  // value out (the b= tag when hashing a signature, RFC 6376 §3.7).
  std::string_view value;
};

struct TagList {
  std::vector<Tag> tags;
  std::string error;  // empty when the text parsed

  bool ok() const { return error.empty(); }
  // The value of tag `name` (case-sensitive, §3.2), or nullopt.
  std::optional<std::string_view> get(std::string_view name) const;
};

// Parses `text`. Tag names are ALPHA *(ALPHA / DIGIT / "_"); values may
// hold any printable character but ";" and folding white space; a tag that
// appears twice makes the whole list invalid (§3.2); a trailing ";" is
// allowed. Unknown tags are kept (callers ignore them).
TagList parse_tag_list(std::string_view text);

}  // namespace postern::mailauth::dkim
