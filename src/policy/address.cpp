#include "policy/address.hpp"

#include <cstring>

namespace postern::policy {
namespace {

// RFC 5321 §4.5.3.1: size limits of the parts of a path.
constexpr std::size_t kMaxLocalPart = 64;
constexpr std::size_t kMaxDomain = 255;
constexpr std::size_t kMaxPath = 256;

bool is_alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

// RFC 5322 atext; UTF-8 octets count as atext under SMTPUTF8 (RFC 6531 §3.3).
bool is_atext(unsigned char c, bool utf8) {
  if (is_alpha(c) || is_digit(c)) return true;
  if (c >= 0x80) return utf8;
  return c != 0 && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

bool is_label_char(unsigned char c, bool utf8) {
  return is_alpha(c) || is_digit(c) || c == '-' || (utf8 && c >= 0x80);
}

bool valid_dot_string(std::string_view s, bool utf8) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!is_atext(c, utf8)) {
      return false;
    }
    prev = ch;
  }
  return true;
}

bool valid_domain(std::string_view d, bool utf8) {
  if (d.empty() || d.size() > kMaxDomain) return false;
  if (d.front() == '[') {
    // Address literal (RFC 5321 §4.1.3): [1.2.3.4], [IPv6:...], or a general
    // literal; we only check the shape here, the relay decision refuses them.
    if (d.back() != ']' || d.size() < 3) return false;
    for (char ch : d.substr(1, d.size() - 2)) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\') return false;
    }
    return true;
  }
  std::size_t start = 0;
  while (start <= d.size()) {
    const auto dot = d.find('.', start);
    const auto label = d.substr(start, dot == std::string_view::npos ? d.npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char ch : label) {
      if (!is_label_char(static_cast<unsigned char>(ch), utf8)) return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

// Parses a quoted local part starting at s[0] == '"'; returns the unquoted
// content and sets `used` to the number of bytes consumed.
std::optional<std::string> parse_quoted(std::string_view s, bool utf8, std::size_t& used) {
  std::string out;
  for (std::size_t i = 1; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      used = i + 1;
      return out;
    }
    if (c == '\\') {
      if (i + 1 >= s.size()) return std::nullopt;
      const auto n = static_cast<unsigned char>(s[i + 1]);
      if (n < 32 || n > 126) return std::nullopt;  // quoted-pairSMTP
      out += static_cast<char>(n);
      ++i;
      continue;
    }
    // qtextSMTP: %d32-33 / %d35-91 / %d93-126, plus UTF-8 under SMTPUTF8.
    const bool ok = (c >= 32 && c <= 126) || (utf8 && c >= 0x80);
    if (!ok) return std::nullopt;
    out += static_cast<char>(c);
  }
  return std::nullopt;  // no closing quote
}

bool needs_quoting(std::string_view local) {
  return !valid_dot_string(local, true);
}

}  // namespace

std::string normalized_address(const Mailbox& mailbox) {
  Mailbox m = mailbox;
  m.domain = ascii_lower(m.domain);
  if (!m.domain.empty() && m.domain.back() == '.') m.domain.pop_back();
  return m.text();
}

std::string Mailbox::text() const {
  std::string out;
  if (quoted && needs_quoting(local)) {
    out += '"';
    for (char c : local) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  } else {
    out += local;
  }
  out += '@';
  out += domain;
  return out;
}

std::optional<Path> parse_path(std::string_view text, bool utf8) {
  if (text.size() < 2 || text.front() != '<' || text.back() != '>') return std::nullopt;
  if (text.size() > kMaxPath + 2) return std::nullopt;
  std::string_view inner = text.substr(1, text.size() - 2);
  Path path;
  if (inner.empty()) {
    path.null = true;
    return path;
  }
  // Source route: "@a,@b:" (RFC 5321 §4.1.2, to be ignored by receivers but
  // historically used to relay; we parse it so policy can refuse it).
  if (inner.front() == '@') {
    const auto colon = inner.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view route = inner.substr(0, colon);
    std::size_t start = 0;
    while (start < route.size()) {
      const auto comma = route.find(',', start);
      auto hop = route.substr(start, comma == std::string_view::npos ? route.npos : comma - start);
      if (hop.size() < 2 || hop.front() != '@' || !valid_domain(hop.substr(1), utf8)) {
        return std::nullopt;
      }
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    path.source_route = true;
    inner = inner.substr(colon + 1);
  }
  Mailbox& m = path.mailbox;
  std::size_t at = 0;
  if (!inner.empty() && inner.front() == '"') {
    std::size_t used = 0;
    auto local = parse_quoted(inner, utf8, used);
    if (!local || used >= inner.size() || inner[used] != '@') return std::nullopt;
    m.local = std::move(*local);
    m.quoted = true;
    at = used;
  } else {
    at = inner.rfind('@');
    if (at == std::string_view::npos || at == 0) return std::nullopt;
    m.local = std::string(inner.substr(0, at));
    if (!valid_dot_string(m.local, utf8)) return std::nullopt;
  }
  if (m.local.size() > kMaxLocalPart) return std::nullopt;
  m.domain = std::string(inner.substr(at + 1));
  if (!valid_domain(m.domain, utf8)) return std::nullopt;
  return path;
}

}  // namespace postern::policy
