// "tag=value; tag=value" lists as DKIM key records (RFC 6376 §3.2) and
// DMARC records (RFC 7489 §6.4) write them. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::dns_records {

using TagList = std::vector<std::pair<std::string, std::string>>;  // tag lowercased, value trimmed

// nullopt when a non-empty entry has no '=' or a tag appears twice
// (RFC 6376 §3.2: "Tags with duplicate names MUST NOT occur").
std::optional<TagList> parse_tag_list(std::string_view text);

const std::string* find_tag(const TagList& tags, std::string_view tag);

}  // namespace postern::dns_records
