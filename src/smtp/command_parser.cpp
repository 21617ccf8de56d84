#include "smtp/command_parser.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <limits>

namespace postern::smtp {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Decimal digits to a number that saturates instead of wrapping: a SIZE or
// BDAT count too large for size_t is still just "too large".
std::optional<std::size_t> parse_count(std::string_view text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), is_digit)) return std::nullopt;
  constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
  std::size_t n = 0;
  for (char c : text) {
    const auto d = static_cast<std::size_t>(c - '0');
    if (n > (kMax - d) / 10) return kMax;
    n = n * 10 + d;
  }
  return n;
}

// esmtp-value (RFC 5321 §4.1.2): printable ASCII except '=' and space. UTF-8
// is allowed too (RFC 6531 §3.3 lets ORCPT and ENVID carry it).
bool valid_value(std::string_view v) {
  if (v.empty()) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f && c != '=';
  });
}

// xtext (RFC 3461 §4): "+XX" hex escapes, printable ASCII otherwise.
bool valid_xtext(std::string_view v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto u = static_cast<unsigned char>(v[i]);
    if (u < 0x21 || u > 0x7e || v[i] == '=') return false;
    if (v[i] == '+') {
      const auto hex = [](char h) { return is_digit(h) || (h >= 'A' && h <= 'F'); };
      if (i + 2 >= v.size() || !hex(v[i + 1]) || !hex(v[i + 2])) return false;
      i += 2;
    }
  }
  return true;
}

struct Param {
  std::string keyword;     // upper-cased
  std::string_view name;   // as sent
  std::string_view value;  // empty when there is no '='
  bool has_value = false;
};

// Walks space-separated "KEYWORD[=value]" parameters.
template <typename F>
bool for_each_param(std::string_view text, ParamError& error, F&& handle) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos >= text.size()) break;
    auto end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(pos, end - pos);
    pos = end;
    const auto eq = item.find('=');
    Param p;
    p.name = item.substr(0, eq);
    p.keyword = ascii_upper(p.name);
    if (eq != std::string_view::npos) {
      p.value = item.substr(eq + 1);
      p.has_value = true;
    }
    if (!handle(p)) {
      if (error.name.empty()) error.name = std::string(p.name);
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

CommandLine split_command(std::string_view line) {
  const auto space = line.find(' ');
  CommandLine c;
  c.verb = ascii_upper(line.substr(0, space));
  if (space != std::string_view::npos) c.args = line.substr(space + 1);
  return c;
}

bool starts_with_keyword(std::string_view args, std::string_view keyword) {
  args = trim(args);
  return args.size() >= keyword.size() && ascii_upper(args.substr(0, keyword.size())) == keyword;
}

std::optional<PathArgument> split_path_argument(std::string_view args, std::string_view keyword) {
  args = trim(args);
  if (!starts_with_keyword(args, keyword)) return std::nullopt;
  args.remove_prefix(keyword.size());
  args = trim(args);
  if (args.empty() || args.front() != '<') return std::nullopt;
  bool quoted = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (quoted && args[i] == '\\') {
      ++i;  // quoted-pair: the next character is literal
    } else if (args[i] == '"') {
      quoted = !quoted;
    } else if (args[i] == '>' && !quoted) {
      PathArgument p;
      p.path = args.substr(0, i + 1);
      const auto rest = args.substr(i + 1);
      // Parameters are separated from the path by a space (RFC 5321 §4.1.2).
      if (!rest.empty() && rest.front() != ' ') return std::nullopt;
      p.params = trim(rest);
      return p;
    }
  }
  return std::nullopt;
}

std::optional<MailParams> parse_mail_params(std::string_view text, ParamError& error) {
  MailParams m;
  bool seen_body = false, seen_ret = false, seen_envid = false, seen_auth = false;
  const bool ok = for_each_param(text, error, [&](const Param& p) {
    const auto bad = [&] {
      error.kind = ParamError::Kind::bad_value;
      return false;
    };
    const auto unknown = [&] {
      error.kind = ParamError::Kind::unknown;
      return false;
    };
    if (p.keyword == "SIZE") {  // RFC 1870 §6
      const auto n = parse_count(p.value);
      if (!n || m.size) return bad();
      m.size = *n;
    } else if (p.keyword == "BODY") {  // RFC 6152 §2
      const std::string v = ascii_upper(p.value);
      if (seen_body || (v != "7BIT" && v != "8BITMIME")) return bad();
      seen_body = true;
      m.eight_bit = v == "8BITMIME";
    } else if (p.keyword == "SMTPUTF8") {  // RFC 6531 §3.4: no value
      if (p.has_value || m.smtputf8) return bad();
      m.smtputf8 = true;
    } else if (p.keyword == "RET") {  // RFC 3461 §4.3
      const std::string v = ascii_upper(p.value);
      if (seen_ret || (v != "FULL" && v != "HDRS")) return bad();
      seen_ret = true;
      m.ret = v;
    } else if (p.keyword == "ENVID") {  // RFC 3461 §4.4: xtext, at most 100
      if (seen_envid || p.value.empty() || p.value.size() > 100 || !valid_xtext(p.value)) {
        return bad();
      }
      seen_envid = true;
      m.envid = std::string(p.value);
    } else if (p.keyword == "AUTH") {
      // RFC 4954 §5: a claim by a relaying client about the original
      // submitter. We do not trust it and record only who authenticated here.
      if (seen_auth || !valid_value(p.value)) return bad();
      seen_auth = true;
    } else {
      return unknown();
    }
    return true;
  });
  if (!ok) return std::nullopt;
  return m;
}

std::optional<RcptParams> parse_rcpt_params(std::string_view text, ParamError& error) {
  RcptParams r;
  bool seen_notify = false, seen_orcpt = false;
  const bool ok = for_each_param(text, error, [&](const Param& p) {
    if (p.keyword == "NOTIFY") {  // RFC 3461 §4.1
      const std::string v = ascii_upper(p.value);
      bool valid = !seen_notify && !v.empty();
      if (valid && v != "NEVER") {
        std::size_t pos = 0;
        while (valid && pos <= v.size()) {
          auto comma = v.find(',', pos);
          if (comma == std::string::npos) comma = v.size();
          const std::string_view item = std::string_view(v).substr(pos, comma - pos);
          valid = item == "SUCCESS" || item == "FAILURE" || item == "DELAY";
          pos = comma + 1;
        }
      }
      if (!valid) {
        error.kind = ParamError::Kind::bad_value;
        return false;
      }
      seen_notify = true;
      r.notify = v;
      return true;
    }
    if (p.keyword == "ORCPT") {  // RFC 3461 §4.2: addr-type ";" xtext, at most 500
      const auto semi = p.value.find(';');
      if (seen_orcpt || semi == std::string_view::npos || semi == 0 || p.value.size() > 500 ||
          !valid_value(p.value)) {
        error.kind = ParamError::Kind::bad_value;
        return false;
      }
      seen_orcpt = true;
      r.orcpt = std::string(p.value);
      return true;
    }
    error.kind = ParamError::Kind::unknown;
    return false;
  });
  if (!ok) return std::nullopt;
  return r;
}

std::optional<BdatArgs> parse_bdat_args(std::string_view args) {
  args = trim(args);
  const auto space = args.find(' ');
  BdatArgs b;
  const auto size = parse_count(args.substr(0, space));
  if (!size) return std::nullopt;
  b.size = *size;
  if (space != std::string_view::npos) {
    if (ascii_upper(trim(args.substr(space + 1))) != "LAST") return std::nullopt;
    b.last = true;
  }
  return b;
}

std::optional<AuthArgs> parse_auth_args(std::string_view args) {
  args = trim(args);
  if (args.empty()) return std::nullopt;
  const auto space = args.find(' ');
  AuthArgs a;
  a.mechanism = ascii_upper(args.substr(0, space));
  if (space != std::string_view::npos) {
    const auto initial = trim(args.substr(space + 1));
    if (initial.empty() || initial.find(' ') != std::string_view::npos) return std::nullopt;
    a.has_initial = true;
    a.initial = initial == "=" ? std::string_view{} : initial;
  }
  return a;
}

}  // namespace postern::smtp
