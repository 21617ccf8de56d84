#include "mailauth/spf/macro.hpp"

#include <algorithm>
#include <vector>

namespace postern::mailauth::spf {
namespace {

bool is_delimiter(char c) {
  return std::string_view(".-+,/_=").find(c) != std::string_view::npos;
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// RFC 3986 unreserved characters stay; everything else is %XX (RFC 7208
// §7.3: an uppercase macro letter asks for URL escaping).
std::string url_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  return out;
}

struct Parsed {
  std::string out;
  bool ok = true;
};

// Walks the macro string; with `values` it also expands.
Parsed walk(std::string_view text, const MacroValues* values, MacroUse use, std::string& error) {
  Parsed p;
  auto fail = [&](std::string why) {
    error = std::move(why);
    p.ok = false;
    return p;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '%') {
      const auto u = static_cast<unsigned char>(c);
      const bool visible = u >= 0x21 && u <= 0x7e;
      if (!visible && !(use == MacroUse::explanation && c == ' ')) {
        return fail("character " + std::to_string(u) + " is not allowed in '" + std::string(text) +
                    "'");
      }
      p.out += c;
      continue;
    }
    if (i + 1 >= text.size()) return fail("'%' at the end of '" + std::string(text) + "'");
    const char next = text[++i];
    if (next == '%') {
      p.out += '%';
      continue;
    }
    if (next == '_') {
      p.out += ' ';
      continue;
    }
    if (next == '-') {
      p.out += "%20";
      continue;
    }
    if (next != '{') {
      return fail("'%" + std::string(1, next) + "' in '" + std::string(text) +
                  "' is not a macro (write %% for a percent sign)");
    }
    const std::size_t close = text.find('}', i);
    if (close == std::string_view::npos)
      return fail("unclosed macro in '" + std::string(text) + "'");
    const std::string_view body = text.substr(i + 1, close - i - 1);
    i = close;
    if (body.empty()) return fail("empty macro %{} in '" + std::string(text) + "'");
    const char letter = body[0];
    const char l = lower(letter);
    if (std::string_view("slodiphcrtv").find(l) == std::string_view::npos) {
      return fail("unknown macro letter '" + std::string(1, letter) + "'");
    }
    if (use == MacroUse::domain_spec && (l == 'c' || l == 'r' || l == 't')) {
      return fail("macro %{" + std::string(1, letter) + "} is allowed only in explanations");
    }
    std::size_t k = 1;
    std::size_t keep = 0;  // 0 = all parts
    const std::size_t digits_start = k;
    while (k < body.size() && body[k] >= '0' && body[k] <= '9') {
      keep = keep * 10 + static_cast<std::size_t>(body[k] - '0');
      if (keep > 128) keep = 128;  // more than any name has labels
      ++k;
    }
    if (k > digits_start && keep == 0)
      return fail("macro transformer 0 in '%{" + std::string(body) + "}'");
    bool reverse = false;
    if (k < body.size() && lower(body[k]) == 'r') {
      reverse = true;
      ++k;
    }
    std::string delimiters;
    for (; k < body.size(); ++k) {
      if (!is_delimiter(body[k])) {
        return fail("'" + std::string(1, body[k]) + "' in '%{" + std::string(body) +
                    "}' is not a macro delimiter");
      }
      delimiters += body[k];
    }
    if (values == nullptr) continue;
    std::string value;
    switch (l) {
      case 's':
        value = values->sender;
        break;
      case 'l':
        value = values->local_part;
        break;
      case 'o':
        value = values->sender_domain;
        break;
      case 'd':
        value = values->domain;
        break;
      case 'i':
        value = values->ip.macro_i();
        break;
      case 'p':
        value = values->validated_name;
        break;
      case 'h':
        value = values->helo;
        break;
      case 'c':
        value = values->ip.text();
        break;
      case 'r':
        value = values->receiver;
        break;
      case 't':
        value = std::to_string(values->now);
        break;
      case 'v':
        value = values->ip.v6 ? "ip6" : "in-addr";
        break;
      default:
        break;
    }
    if (keep != 0 || reverse || !delimiters.empty()) {
      if (delimiters.empty()) delimiters = ".";
      std::vector<std::string> parts(1);
      for (const char ch : value) {
        if (delimiters.find(ch) != std::string::npos) {
          parts.emplace_back();
        } else {
          parts.back() += ch;
        }
      }
      if (reverse) std::reverse(parts.begin(), parts.end());
      if (keep != 0 && keep < parts.size()) {
        parts.erase(parts.begin(), parts.end() - static_cast<std::ptrdiff_t>(keep));
      }
      value.clear();
      for (std::size_t n = 0; n < parts.size(); ++n) {
        if (n > 0) value += '.';
        value += parts[n];
      }
    }
    p.out += letter != l ? url_escape(value) : value;
  }
  return p;
}

}  // namespace

std::optional<std::string> expand_macros(std::string_view text, const MacroValues& values,
                                         MacroUse use, std::string& error) {
  Parsed p = walk(text, &values, use, error);
  if (!p.ok) return std::nullopt;
  return std::move(p.out);
}

bool valid_macro_string(std::string_view text, MacroUse use, std::string& error) {
  return walk(text, nullptr, use, error).ok;
}

bool uses_p_macro(std::string_view text) {
  for (std::size_t i = 0; i + 2 < text.size(); ++i) {
    if (text[i] == '%' && text[i + 1] == '%') {
      ++i;
      continue;
    }
    if (text[i] == '%' && text[i + 1] == '{' && lower(text[i + 2]) == 'p') return true;
  }
  return false;
}

std::string truncate_domain(std::string name) {
  while (name.size() > 253) {
    const auto dot = name.find('.');
    if (dot == std::string::npos) return name;
    name.erase(0, dot + 1);
  }
  return name;
}

}  // namespace postern::mailauth::spf
