#include "control/message_text.hpp"

#include <array>
#include <cstdio>
#include <ctime>

#include "core/text.hpp"

namespace postern::control {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

// RFC 5322 §3.6.8: a field name is printable US-ASCII except colon.
bool is_ftext(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 33 && u <= 126 && c != ':';
}

// The name of the field starting at `line` (which must be a first line, not
// a continuation), or empty when the line is not a field. White space
// between the name and the colon, the obsolete form of RFC 5322 §4.5.3, is
// accepted.
std::string_view field_name(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && is_ftext(line[i])) ++i;
  if (i == 0) return {};
  std::size_t j = i;
  while (j < line.size() && is_blank(line[j])) ++j;
  if (j >= line.size() || line[j] != ':') return {};
  return line.substr(0, i);
}

// One header field: [begin, end) covers its first line and continuation
// lines, CRLFs included; `colon` is the offset of its colon.
struct Field {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t colon = 0;
  std::string_view name;
};

std::vector<Field> fields_of(std::string_view message) {
  std::vector<Field> out;
  const std::size_t limit = header_section_end(message);
  std::size_t pos = 0;
  while (pos < limit) {
    std::size_t eol = message.find("\r\n", pos);
    std::size_t next = eol + 2;
    if (eol == std::string_view::npos || eol >= limit) {
      eol = limit;
      next = limit;
    }
    const std::string_view line = message.substr(pos, eol - pos);
    if (!line.empty() && is_blank(line.front()) && !out.empty()) {
      out.back().end = next;  // continuation of the previous field
    } else {
      Field f;
      f.begin = pos;
      f.end = next;
      f.name = field_name(line);
      const std::size_t colon = line.find(':');
      f.colon = colon == std::string_view::npos ? eol : pos + colon;
      out.push_back(f);
    }
    pos = next;
  }
  return out;
}

}  // namespace

std::size_t header_section_end(std::string_view message) {
  std::size_t pos = 0;
  bool first = true;
  while (pos < message.size()) {
    const std::size_t eol = message.find("\r\n", pos);
    const std::string_view line =
        message.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (line.empty()) return pos;  // the separator line
    const bool continuation = is_blank(line.front());
    if (first ? field_name(line).empty() : (!continuation && field_name(line).empty())) {
      // Not a field: for the first line there is no header section at all;
      // later, a non-field line (no separator) begins the body.
      return first ? 0 : pos;
    }
    first = false;
    if (eol == std::string_view::npos) return message.size();
    pos = eol + 2;
  }
  return pos;
}

bool has_header(std::string_view message, std::string_view name) {
  for (const Field& f : fields_of(message)) {
    if (iequals(f.name, name)) return true;
  }
  return false;
}

std::vector<std::string> header_values(std::string_view message, std::string_view name) {
  std::vector<std::string> out;
  for (const Field& f : fields_of(message)) {
    if (!iequals(f.name, name)) continue;
    std::string value;
    std::string_view raw = message.substr(f.colon + 1, f.end - f.colon - 1);
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') {
        ++i;
        continue;
      }
      value += raw[i];
    }
    std::size_t start = 0;
    while (start < value.size() && is_blank(value[start])) ++start;
    out.push_back(value.substr(start));
  }
  return out;
}

std::string remove_header(std::string_view message, std::string_view name) {
  std::string out;
  out.reserve(message.size());
  std::size_t copied = 0;
  for (const Field& f : fields_of(message)) {
    if (!iequals(f.name, name)) continue;
    out.append(message.substr(copied, f.begin - copied));
    copied = f.end;
  }
  out.append(message.substr(copied));
  return out;
}

std::vector<std::string> parse_address_list(std::string_view value) {
  // A small tokenizer over the parts that matter: quoted strings and
  // comments are skipped as units (they may hold ',', '<', ':' or ';'), an
  // angle-addr wins over the words before it, and ':'/';' delimit groups.
  std::vector<std::string> out;
  std::string words;  // the bare text of the current mailbox
  std::string angle;  // the content of <...>, when seen
  bool have_angle = false;
  auto finish = [&] {
    std::string addr = have_angle ? angle : words;
    // An obsolete route "@a,@b:user@c" keeps only the mailbox.
    if (have_angle) {
      const std::size_t colon = addr.rfind(':');
      if (!addr.empty() && addr.front() == '@' && colon != std::string::npos) {
        addr = addr.substr(colon + 1);
      }
    }
    std::size_t b = 0;
    std::size_t e = addr.size();
    while (b < e && is_blank(addr[b])) ++b;
    while (e > b && is_blank(addr[e - 1])) --e;
    addr = addr.substr(b, e - b);
    if (!addr.empty()) out.push_back(addr);
    words.clear();
    angle.clear();
    have_angle = false;
  };
  std::size_t i = 0;
  while (i < value.size()) {
    const char c = value[i];
    if (c == '"') {
      // A quoted string: part of a display name, or a quoted local part
      // (kept with its quotes when it is the address).
      std::string q = "\"";
      ++i;
      while (i < value.size() && value[i] != '"') {
        if (value[i] == '\\' && i + 1 < value.size()) q += value[i++];
        q += value[i++];
      }
      if (i >= value.size()) break;  // unterminated: nothing usable follows
      ++i;
      words += q + '"';
    } else if (c == '(') {
      int depth = 0;
      while (i < value.size()) {
        if (value[i] == '\\' && i + 1 < value.size()) {
          i += 2;
          continue;
        }
        if (value[i] == '(') ++depth;
        if (value[i] == ')' && --depth == 0) {
          ++i;
          break;
        }
        ++i;
      }
      words += ' ';
    } else if (c == '<') {
      const std::size_t close = value.find('>', i);
      angle = std::string(
          value.substr(i + 1, (close == std::string_view::npos ? value.size() : close) - i - 1));
      have_angle = true;
      i = close == std::string_view::npos ? value.size() : close + 1;
    } else if (c == ',' || c == ';') {
      finish();
      ++i;
    } else if (c == ':' && !have_angle) {
      // A group's display name ends here; what came before is not an address.
      words.clear();
      ++i;
    } else if (c == '\r' || c == '\n') {
      ++i;
    } else {
      words += c;
      ++i;
    }
  }
  finish();
  // A bare-words entry is only an address when it is one token with an "@"
  // (or a lone local part); "John Smith" without <...> is not.
  std::vector<std::string> clean;
  for (std::string& a : out) {
    bool has_blank = false;
    bool in_quotes = false;
    for (char ch : a) {
      if (ch == '"') in_quotes = !in_quotes;
      if (!in_quotes && is_blank(ch)) has_blank = true;
    }
    if (!has_blank) clean.push_back(std::move(a));
  }
  return clean;
}

}  // namespace postern::control
