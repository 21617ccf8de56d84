#include "mailauth/auth_results/forged.hpp"

#include "core/text.hpp"
#include "mailauth/dkim/message_view.hpp"

namespace postern::mailauth {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Skips white space and comments (RFC 5322 §3.2.2: nested, with
// quoted-pairs). An unterminated comment swallows the rest.
void skip_cfws(std::string_view v, std::size_t& i) {
  while (i < v.size()) {
    if (is_space(v[i])) {
      ++i;
      continue;
    }
    if (v[i] != '(') return;
    int depth = 0;
    while (i < v.size()) {
      const char c = v[i++];
      if (c == '\\') {
        ++i;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0) {
        break;
      }
    }
  }
}

std::string_view without_dot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

// The fields of an already parsed header that claim `authserv_id`.
std::vector<ByteRange> forged_in(const dkim::MessageView& view, std::string_view message,
                                 std::string_view authserv_id) {
  std::vector<ByteRange> out;
  const std::string_view ours = without_dot(authserv_id);
  for (const dkim::HeaderField& f : view.fields) {
    if (!iequals(f.name, "Authentication-Results")) continue;
    const std::optional<std::string> id = authserv_id_of(f.value());
    if (!id || !iequals(without_dot(*id), ours)) continue;
    const auto begin = static_cast<std::size_t>(f.text.data() - message.data());
    out.push_back({begin, begin + f.text.size()});
  }
  return out;
}

}  // namespace

std::optional<std::string> authserv_id_of(std::string_view v) {
  std::size_t i = 0;
  skip_cfws(v, i);
  if (i >= v.size()) return std::nullopt;
  std::string id;
  if (v[i] == '"') {
    // RFC 8601 §2.2: authserv-id = value, which may be a quoted-string.
    for (++i; i < v.size() && v[i] != '"'; ++i) {
      if (v[i] == '\\' && i + 1 < v.size()) ++i;
      if (v[i] == '\r' || v[i] == '\n') continue;  // folding inside the quotes
      id.push_back(v[i]);
    }
    if (i >= v.size()) return std::nullopt;  // no closing quote
  } else {
    while (i < v.size() && !is_space(v[i]) && v[i] != ';' && v[i] != '(') id.push_back(v[i++]);
  }
  if (id.empty()) return std::nullopt;
  return id;
}

std::vector<ByteRange> forged_auth_results(std::string_view message, std::string_view authserv_id) {
  return forged_in(dkim::parse_message(message), message, authserv_id);
}

FilteredHeader remove_forged_auth_results(std::string_view message, std::string_view authserv_id) {
  FilteredHeader r;
  const dkim::MessageView view = dkim::parse_message(message);
  if (!view.fields.empty()) {
    const std::string_view last = view.fields.back().text;
    r.body_offset = static_cast<std::size_t>(last.data() - message.data()) + last.size();
  }
  const std::vector<ByteRange> forged = forged_in(view, message, authserv_id);
  r.removed = forged.size();
  r.header.reserve(r.body_offset);
  std::size_t pos = 0;
  for (const ByteRange& range : forged) {
    r.header.append(message.substr(pos, range.begin - pos));
    pos = range.end;
  }
  r.header.append(message.substr(pos, r.body_offset - pos));
  return r;
}

}  // namespace postern::mailauth
