#include "dns_records/tag_list.hpp"

#include <cctype>

namespace postern::dns_records {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<TagList> parse_tag_list(std::string_view text) {
  TagList out;
  while (!text.empty()) {
    const auto semi = text.find(';');
    const std::string_view entry = trim(text.substr(0, semi));
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    if (entry.empty()) continue;  // a trailing ';' is allowed
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string tag(trim(entry.substr(0, eq)));
    for (auto& c : tag) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (tag.empty() || find_tag(out, tag) != nullptr) return std::nullopt;
    out.emplace_back(std::move(tag), std::string(trim(entry.substr(eq + 1))));
  }
  return out;
}

const std::string* find_tag(const TagList& tags, std::string_view tag) {
  for (const auto& [t, v] : tags) {
    if (t == tag) return &v;
  }
  return nullptr;
}

}  // namespace postern::dns_records
