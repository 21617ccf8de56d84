#include "mailauth/spf/record.hpp"

#include <cctype>

#include "mailauth/spf/macro.hpp"

namespace postern::mailauth::spf {
namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// ip4-cidr-length / ip6-cidr-length: "0" or a number without leading zero,
// at most `max` (RFC 7208 §5.6, §12).
std::optional<int> parse_cidr(std::string_view digits, int max) {
  if (digits.empty() || digits.size() > 3) return std::nullopt;
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  int value = 0;
  for (const char c : digits) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

// domain-end (RFC 7208 §7.1): the domain-spec ends with a macro or with a
// top label that is not all digits, after at least one dot.
bool valid_domain_end(std::string_view spec) {
  if (spec.empty()) return false;
  if (spec.back() == '}') return true;
  if (spec.back() == '.') spec.remove_suffix(1);
  const auto dot = spec.rfind('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view top = spec.substr(dot + 1);
  if (top.empty() || top.front() == '-' || top.back() == '-') return false;
  bool letter = false;
  bool hyphen = false;
  for (const char c : top) {
    if (is_alpha(c)) {
      letter = true;
    } else if (c == '-') {
      hyphen = true;
    } else if (!is_digit(c)) {
      return false;
    }
  }
  return letter || hyphen;
}

bool check_domain_spec(std::string_view spec, const std::string& term, std::string& error) {
  std::string why;
  if (!valid_macro_string(spec, MacroUse::domain_spec, why)) {
    error = "'" + term + "': " + why;
    return false;
  }
  if (!valid_domain_end(spec)) {
    error = "'" + term + "': '" + std::string(spec) + "' is not a domain name";
    return false;
  }
  return true;
}

// "[:domain-spec][/cidr4][//cidr6]" after a or mx.
bool parse_a_or_mx(std::string_view rest, Mechanism& m, std::string& error) {
  const std::string term = m.text;
  // The CIDR lengths come last; a domain-spec contains '/' only inside a
  // macro ("%{d1/}"), which ends with '}', never with digits.
  auto strip_number_suffix = [&](std::string_view& s, std::string_view marker,
                                 int max) -> std::optional<int> {
    const auto at = s.rfind(marker);
    if (at == std::string_view::npos) return std::nullopt;
    const std::string_view digits = s.substr(at + marker.size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
    if (marker == "/" && at > 0 && s[at - 1] == '/') return std::nullopt;
    const auto value = parse_cidr(digits, max);
    if (!value) return -1;
    s = s.substr(0, at);
    return value;
  };
  if (auto v6 = strip_number_suffix(rest, "//", 128)) {
    if (*v6 < 0) {
      error = "'" + term + "': bad IPv6 prefix length";
      return false;
    }
    m.cidr6 = *v6;
  }
  if (auto v4 = strip_number_suffix(rest, "/", 32)) {
    if (*v4 < 0) {
      error = "'" + term + "': bad IPv4 prefix length";
      return false;
    }
    m.cidr4 = *v4;
  }
  if (rest.empty()) return true;
  if (rest.front() != ':') {
    error = "'" + term + "' is not a valid mechanism";
    return false;
  }
  m.domain_spec = std::string(rest.substr(1));
  return check_domain_spec(m.domain_spec, term, error);
}

bool parse_ip(std::string_view rest, bool v6, Mechanism& m, std::string& error) {
  const std::string term = m.text;
  if (rest.empty() || rest.front() != ':') {
    error = "'" + term + "' needs an address";
    return false;
  }
  rest.remove_prefix(1);
  std::string_view address = rest;
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    address = rest.substr(0, slash);
    const auto len = parse_cidr(rest.substr(slash + 1), v6 ? 128 : 32);
    if (!len) {
      error = "'" + term + "': bad prefix length";
      return false;
    }
    (v6 ? m.cidr6 : m.cidr4) = *len;
  }
  // ip4: takes dotted quads only, ip6: colon forms only. An IPv4-mapped
  // ip6: network (::ffff:192.0.2.0/120) matches IPv4 clients, as the client
  // address is mapped the same way (RFC 7208 §5).
  const auto ip = IpAddress::parse(address);
  const bool colon = address.find(':') != std::string_view::npos;
  if (!ip || colon != v6) {
    error = "'" + term + "': '" + std::string(address) + "' is not an IPv" + (v6 ? "6" : "4") +
            " address";
    return false;
  }
  m.network = *ip;
  if (v6 && !ip->v6) m.cidr4 = m.cidr6 >= 96 ? m.cidr6 - 96 : 0;
  return true;
}

}  // namespace

bool is_spf_record(std::string_view txt) {
  if (txt.size() < 6 || lowercase(txt.substr(0, 6)) != "v=spf1") return false;
  return txt.size() == 6 || txt[6] == ' ';
}

std::optional<Record> parse_record(std::string_view txt, std::string& error) {
  if (!is_spf_record(txt)) {
    error = "not an SPF record (it must start with 'v=spf1')";
    return std::nullopt;
  }
  Record record;
  record.text = std::string(txt);
  std::size_t i = 6;
  while (i < txt.size()) {
    if (txt[i] == ' ') {
      ++i;
      continue;
    }
    const std::size_t end = std::min(txt.find(' ', i), txt.size());
    const std::string term(txt.substr(i, end - i));
    i = end;
    // A modifier is name=value with the name made of letters, digits and
    // "-_." starting with a letter (§12); a mechanism never has '=' before
    // its ':' or '/'.
    const auto eq = term.find('=');
    const auto colon_or_slash = term.find_first_of(":/");
    if (eq != std::string::npos && (colon_or_slash == std::string::npos || eq < colon_or_slash)) {
      const std::string name = lowercase(term.substr(0, eq));
      const std::string value = term.substr(eq + 1);
      bool good_name = !name.empty() && is_alpha(name[0]);
      for (const char c : name) {
        if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_' && c != '.') good_name = false;
      }
      if (!good_name) {
        error = "'" + term + "' is not a valid modifier";
        return std::nullopt;
      }
      if (name == "redirect" || name == "exp") {
        auto& slot = name == "redirect" ? record.redirect : record.exp;
        if (slot) {
          error = "'" + name + "=' appears twice (RFC 7208 §6)";
          return std::nullopt;
        }
        if (!check_domain_spec(value, term, error)) return std::nullopt;
        slot = value;
      } else {
        std::string why;
        if (!valid_macro_string(value, MacroUse::domain_spec, why)) {
          error = "'" + term + "': " + why;
          return std::nullopt;
        }
      }
      continue;
    }
    Mechanism m;
    m.text = term;
    std::string_view body = term;
    switch (body.front()) {
      case '+':
        m.qualifier = Qualifier::pass;
        body.remove_prefix(1);
        break;
      case '-':
        m.qualifier = Qualifier::fail;
        body.remove_prefix(1);
        break;
      case '~':
        m.qualifier = Qualifier::softfail;
        body.remove_prefix(1);
        break;
      case '?':
        m.qualifier = Qualifier::neutral;
        body.remove_prefix(1);
        break;
      default:
        break;
    }
    std::size_t name_end = 0;
    while (name_end < body.size() && (is_alpha(body[name_end]) || is_digit(body[name_end]))) {
      ++name_end;
    }
    const std::string name = lowercase(body.substr(0, name_end));
    const std::string_view rest = body.substr(name_end);
    bool ok = true;
    if (name == "all") {
      m.kind = Mechanism::Kind::all;
      if (!rest.empty()) {
        error = "'" + term + "': 'all' takes no argument";
        ok = false;
      }
    } else if (name == "include" || name == "exists") {
      m.kind = name == "include" ? Mechanism::Kind::include : Mechanism::Kind::exists;
      if (rest.size() < 2 || rest.front() != ':') {
        error = "'" + term + "' needs a domain ('" + name + ":example.com')";
        ok = false;
      } else {
        m.domain_spec = std::string(rest.substr(1));
        ok = check_domain_spec(m.domain_spec, term, error);
      }
    } else if (name == "a" || name == "mx") {
      m.kind = name == "a" ? Mechanism::Kind::a : Mechanism::Kind::mx;
      ok = parse_a_or_mx(rest, m, error);
    } else if (name == "ptr") {
      m.kind = Mechanism::Kind::ptr;
      if (!rest.empty()) {
        if (rest.front() != ':') {
          error = "'" + term + "' is not a valid mechanism";
          ok = false;
        } else {
          m.domain_spec = std::string(rest.substr(1));
          ok = check_domain_spec(m.domain_spec, term, error);
        }
      }
    } else if (name == "ip4" || name == "ip6") {
      m.kind = name == "ip4" ? Mechanism::Kind::ip4 : Mechanism::Kind::ip6;
      ok = parse_ip(rest, name == "ip6", m, error);
    } else {
      error = "'" + term + "' is not an SPF mechanism";
      ok = false;
    }
    if (!ok) return std::nullopt;
    record.mechanisms.push_back(std::move(m));
  }
  return record;
}

}  // namespace postern::mailauth::spf
