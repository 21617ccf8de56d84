#include "mailauth/dkim/tag_list.hpp"

#include <fmt/format.h>

namespace postern::mailauth::dkim {
namespace {

bool is_wsp(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string_view> TagList::get(std::string_view name) const {
  for (const Tag& t : tags) {
    if (t.name == name) return t.value;
  }
  return std::nullopt;
}

TagList parse_tag_list(std::string_view text) {
  TagList list;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find(';', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view spec = text.substr(pos, end - pos);
    const bool last = end == text.size();
    if (trim(spec).empty()) {
      // Only the part after a final ";" (or an entirely empty list) may be
      // empty: "a=1;;b=2" is not a tag-list.
      if (!last) {
        list.error = "an empty tag between two semicolons";
        return list;
      }
      break;
    }
    const std::size_t eq = spec.find('=');
    if (eq == std::string_view::npos) {
      list.error = fmt::format("\"{}\" has no \"=\"", trim(spec));
      return list;
    }
    const std::string_view name = trim(spec.substr(0, eq));
    bool name_ok = !name.empty() && is_alpha(name.front());
    for (char c : name) name_ok = name_ok && (is_alpha(c) || is_digit(c) || c == '_');
    if (!name_ok) {
      list.error = fmt::format("\"{}\" is not a tag name", name);
      return list;
    }
    const std::string_view value = trim(spec.substr(eq + 1));
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if (!is_wsp(c) && (u < 0x21 || u > 0x7e)) {
        list.error = fmt::format("the value of {}= has a character that is not allowed", name);
        return list;
      }
    }
    if (list.get(name)) {
      list.error = fmt::format("{}= appears twice", name);
      return list;
    }
    list.tags.push_back({name, value});
    if (last) break;
    pos = end + 1;
  }
  return list;
}

}  // namespace postern::mailauth::dkim
