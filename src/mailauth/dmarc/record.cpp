#include "mailauth/dmarc/record.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/text.hpp"

namespace postern::mailauth::dmarc {
namespace {

bool is_wsp(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

struct Tag {
  std::string name;  // lowercased: the ABNF of §6.4 spells tag names as case-insensitive strings
  std::string_view value;
};

// The tag-value syntax of §6.4 (DKIM's, RFC 6376 §3.2), read a little more
// leniently than DKIM: empty parts (";;", a trailing ";") are skipped, since
// published records carry them and they say nothing. A part without "=" or
// a tag given twice still makes the record invalid (RFC 6376 §3.2).
bool split_tags(std::string_view text, std::vector<Tag>& tags, std::string& error) {
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find(';', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view part = trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      error = fmt::format("\"{}\" is not a tag=value pair", part.substr(0, 40));
      return false;
    }
    const std::string name = ascii_lower(trim(part.substr(0, eq)));
    if (name.empty()) {
      error = "a \"=\" without a tag name";
      return false;
    }
    for (const Tag& t : tags) {
      if (t.name == name) {
        error = fmt::format("{}= appears twice", name.substr(0, 40));
        return false;
      }
    }
    tags.push_back({name, trim(part.substr(eq + 1))});
  }
  return true;
}

std::optional<Policy> parse_policy(std::string_view v) {
  if (iequals(v, "none")) return Policy::none;
  if (iequals(v, "quarantine")) return Policy::quarantine;
  if (iequals(v, "reject")) return Policy::reject;
  return std::nullopt;
}

std::optional<Alignment> parse_alignment(std::string_view v) {
  if (iequals(v, "r")) return Alignment::relaxed;
  if (iequals(v, "s")) return Alignment::strict;
  return std::nullopt;
}

// §6.4 dmarc-uri: a URI (RFC 3986) with an optional "!" size limit. We send
// no reports, so only the shape matters: it decides whether an invalid p=
// still leaves a usable record (§6.6.3 step 6).
bool valid_report_uri(std::string_view uri) {
  const std::size_t bang = uri.rfind('!');
  if (bang != std::string_view::npos) {
    std::string_view size = uri.substr(bang + 1);
    uri = uri.substr(0, bang);
    if (!size.empty() &&
        (size.back() == 'k' || size.back() == 'm' || size.back() == 'g' || size.back() == 't')) {
      size.remove_suffix(1);
    }
    if (size.empty()) return false;
    for (char c : size) {
      if (c < '0' || c > '9') return false;
    }
  }
  // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":".
  const std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == uri.size()) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    const char c = uri[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool other = (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    if (!alpha && !(i > 0 && other)) return false;
  }
  for (char c : uri) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

std::vector<std::string> split_uris(std::string_view v) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= v.size()) {
    std::size_t comma = v.find(',', pos);
    if (comma == std::string_view::npos) comma = v.size();
    const std::string_view item = trim(v.substr(pos, comma - pos));
    if (!item.empty()) out.emplace_back(item);
    pos = comma + 1;
  }
  return out;
}

}  // namespace

const char* policy_name(Policy policy) {
  switch (policy) {
    case Policy::none:
      return "none";
    case Policy::quarantine:
      return "quarantine";
    case Policy::reject:
      return "reject";
  }
  return "none";
}

const char* alignment_name(Alignment alignment) {
  return alignment == Alignment::strict ? "s" : "r";
}

bool is_dmarc_record(std::string_view txt) {
  // §6.3 "v": the first tag, its value exactly "DMARC1" (the ABNF spells
  // it with %x codes, so it is case-sensitive); white space may surround
  // the "=" and precede the tag.
  txt = trim(txt);
  if (txt.empty() || (txt.front() != 'v' && txt.front() != 'V')) return false;
  txt.remove_prefix(1);
  while (!txt.empty() && is_wsp(txt.front())) txt.remove_prefix(1);
  if (txt.empty() || txt.front() != '=') return false;
  txt.remove_prefix(1);
  const std::size_t semi = txt.find(';');
  return trim(txt.substr(0, semi)) == "DMARC1";
}

std::optional<Record> parse_record(std::string_view txt, std::string& error) {
  if (!is_dmarc_record(txt)) {
    error = "the record does not start with v=DMARC1";
    return std::nullopt;
  }
  std::vector<Tag> tags;
  if (!split_tags(txt, tags, error)) return std::nullopt;

  Record r;
  r.text = std::string(trim(txt));
  std::optional<Policy> p, sp;
  bool sp_given = false;
  std::string policy_problem;
  for (const Tag& t : tags) {
    if (t.name == "p") {
      p = parse_policy(t.value);
      if (!p)
        policy_problem =
            fmt::format("p={} is not none, quarantine or reject", t.value.substr(0, 40));
    } else if (t.name == "sp") {
      sp_given = true;
      sp = parse_policy(t.value);
      if (!sp)
        policy_problem =
            fmt::format("sp={} is not none, quarantine or reject", t.value.substr(0, 40));
    } else if (t.name == "pct") {
      int n = -1;
      const char* end = t.value.data() + t.value.size();
      const auto [ptr, ec] = std::from_chars(t.value.data(), end, n);
      if (t.value.empty() || ec != std::errc() || ptr != end || n < 0 || n > 100) {
        error = fmt::format("pct={} is not a whole number from 0 to 100", t.value.substr(0, 40));
        return std::nullopt;
      }
      r.percent = n;
    } else if (t.name == "adkim" || t.name == "aspf") {
      const auto a = parse_alignment(t.value);
      if (!a) {
        error = fmt::format("{}={} is not r or s", t.name, t.value.substr(0, 40));
        return std::nullopt;
      }
      (t.name == "adkim" ? r.dkim_alignment : r.spf_alignment) = *a;
    } else if (t.name == "rua") {
      r.rua = split_uris(t.value);
    } else if (t.name == "ruf") {
      r.ruf = split_uris(t.value);
    }
    // v= was checked above; fo=, rf=, ri= only shape reports, which we do
    // not send; anything else is unknown and ignored (§6.3).
  }
  if (!p && policy_problem.empty()) policy_problem = "p= is missing";
  if (!policy_problem.empty()) {
    // §6.6.3 step 6: with a valid rua= the record counts as p=none;
    // without one, no DMARC processing applies.
    bool usable_rua = false;
    for (const std::string& u : r.rua) usable_rua = usable_rua || valid_report_uri(u);
    if (!usable_rua) {
      error = policy_problem + " (and no valid rua= to fall back on p=none, RFC 7489 §6.6.3)";
      return std::nullopt;
    }
    r.policy = Policy::none;
    r.subdomain_policy = Policy::none;
    r.policy_defaulted = true;
    r.note = policy_problem + "; treated as p=none because rua= is valid (RFC 7489 §6.6.3)";
    return r;
  }
  r.policy = *p;
  r.subdomain_policy = sp_given ? *sp : *p;
  return r;
}

}  // namespace postern::mailauth::dmarc
