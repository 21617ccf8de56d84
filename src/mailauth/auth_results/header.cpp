#include "mailauth/auth_results/header.hpp"

#include <fmt/format.h>

namespace postern::mailauth {
namespace {

// RFC 5322 §2.1.1: lines SHOULD stay within 78 characters. A tab is
// counted as 8 so that the field also looks right in a terminal.
constexpr std::size_t kLineLimit = 78;
constexpr std::size_t kTabWidth = 8;

// Printable US-ASCII only: reasons and names come partly from the sender
// (HELO, d=, record text); a control character or a line break must never
// reach the header.
// Our own reasons cite "RFC ... §n"; that one character is spelt out.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.substr(i, 2) == "\xC2\xA7") {
      out += "section ";
      ++i;
      continue;
    }
    const auto u = static_cast<unsigned char>(text[i]);
    out.push_back(u >= 0x20 && u < 0x7f ? text[i] : '?');
  }
  return out;
}

// RFC 2045 §5.1 token: what a pvalue may be without quotes.
bool is_token(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
    if (std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos) return false;
  }
  return true;
}

// RFC 5322 §3.2.3 atext, for a local part that can go unquoted.
bool is_dot_atom(std::string_view v) {
  if (v.empty() || v.front() == '.' || v.back() == '.') return false;
  char prev = 0;
  for (char c : v) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) == std::string_view::npos) {
      return false;
    }
    if (c == '.' && prev == '.') return false;
    prev = c;
  }
  return true;
}

std::string quoted(std::string_view v) {
  std::string out = "\"";
  for (char c : printable(v)) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// RFC 8601 §2.2 pvalue: a token as is, anything else as a quoted-string.
std::string pvalue(std::string_view v) {
  return is_token(v) ? std::string(v) : quoted(v);
}

// smtp.mailfrom: the address when its local part is a plain dot-atom (the
// pvalue grammar's "local-part @ domain-name"), otherwise the domain only,
// which is what SPF checked anyway.
std::string mailfrom_value(std::string_view address, std::string_view domain) {
  const std::size_t at = address.rfind('@');
  if (at != std::string_view::npos && is_dot_atom(address.substr(0, at)) &&
      is_token(address.substr(at + 1))) {
    return std::string(address);
  }
  return pvalue(domain);
}

// A comment's words (RFC 5322 §3.2.2): parentheses and backslashes
// escaped, split at spaces so the folder can break the line between them.
void add_comment(std::vector<std::string>& words, std::string_view text) {
  std::string escaped;
  for (char c : printable(text)) {
    if (c == '(' || c == ')' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (pos < escaped.size()) {
    std::size_t sp = escaped.find(' ', pos);
    if (sp == std::string::npos) sp = escaped.size();
    if (sp > pos) parts.push_back(escaped.substr(pos, sp - pos));
    pos = sp + 1;
  }
  if (parts.empty()) return;
  parts.front().insert(0, "(");
  parts.back().push_back(')');
  for (std::string& p : parts) words.push_back(std::move(p));
}

// The shortest prefix of each b= (at least kHeaderBPrefix characters) that
// tells it apart from the other signatures' (RFC 6008 §4).
std::vector<std::string> b_prefixes(const std::vector<DkimCheck>& dkim) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < dkim.size(); ++i) {
    std::size_t n = kHeaderBPrefix;
    for (std::size_t j = 0; j < dkim.size(); ++j) {
      if (j == i) continue;
      const std::string& a = dkim[i].b;
      const std::string& b = dkim[j].b;
      std::size_t common = 0;
      while (common < a.size() && common < b.size() && a[common] == b[common]) ++common;
      if (a != b) n = std::max(n, common + 1);
    }
    out.push_back(dkim[i].b.substr(0, n));
  }
  return out;
}

class Folder {
 public:
  explicit Folder(std::string first) : out_(std::move(first)), column_(out_.size()) {}

  // A resinfo on a line of its own, its words folded at kLineLimit.
  void resinfo(const std::vector<std::string>& words, bool last) {
    out_ += "\r\n\t";
    column_ = kTabWidth;
    bool first = true;
    for (std::size_t i = 0; i < words.size(); ++i) {
      std::string w = words[i];
      if (last == false && i + 1 == words.size()) w.push_back(';');
      if (!first && column_ + 1 + w.size() > kLineLimit) {
        out_ += "\r\n\t";
        column_ = kTabWidth;
        first = true;
      }
      if (!first) {
        out_.push_back(' ');
        ++column_;
      }
      out_ += w;
      column_ += w.size();
      first = false;
    }
  }

  std::string finish() { return out_ + "\r\n"; }

 private:
  std::string out_;
  std::size_t column_;
};

std::vector<std::string> spf_words(const SpfCheck& spf) {
  std::vector<std::string> w{fmt::format("spf={}", spf::result_name(spf.result))};
  if (!spf.reason.empty() && spf.result != spf::Result::pass) add_comment(w, spf.reason);
  if (!spf.mail_from.empty()) {
    w.push_back("smtp.mailfrom=" + mailfrom_value(spf.mail_from, spf.domain()));
  } else if (!spf.helo.empty()) {
    w.push_back("smtp.helo=" + pvalue(spf.helo));
  }
  return w;
}

std::vector<std::string> dkim_words(const DkimCheck& d, const std::string& b_prefix) {
  std::vector<std::string> w{fmt::format("dkim={}", dkim_result_name(d.result))};
  std::string comment = d.result == DkimResult::pass ? "" : d.reason;
  if (d.testing) comment += comment.empty() ? "test mode, t=y" : "; test mode, t=y";
  add_comment(w, comment);
  if (!d.domain.empty()) w.push_back("header.d=" + pvalue(d.domain));
  if (!d.selector.empty()) w.push_back("header.s=" + pvalue(d.selector));
  if (!b_prefix.empty()) w.push_back("header.b=" + pvalue(b_prefix));
  return w;
}

std::vector<std::string> dmarc_words(const dmarc::Verdict& v) {
  std::vector<std::string> w{fmt::format("dmarc={}", dmarc::result_name(v.result))};
  if (v.record) {
    add_comment(w, fmt::format("p={} dis={}{}", dmarc::policy_name(v.policy),
                               dmarc::policy_name(v.disposition),
                               v.sampled_out ? fmt::format(" pct={}", v.record->percent) : ""));
  }
  if (v.result != dmarc::Result::pass) add_comment(w, v.reason);
  if (!v.from_domain.empty()) w.push_back("header.from=" + pvalue(v.from_domain));
  return w;
}

}  // namespace

std::string authentication_results_field(const AuthResults& results) {
  std::vector<std::vector<std::string>> entries;
  if (results.spf) entries.push_back(spf_words(*results.spf));
  if (results.dkim_checked && results.dkim.empty()) entries.push_back({"dkim=none"});
  const std::vector<std::string> prefixes = b_prefixes(results.dkim);
  for (std::size_t i = 0; i < results.dkim.size(); ++i) {
    entries.push_back(dkim_words(results.dkim[i], prefixes[i]));
  }
  if (results.dmarc) entries.push_back(dmarc_words(*results.dmarc));

  const std::string id = pvalue(results.authserv_id);
  if (entries.empty()) return "Authentication-Results: " + id + "; none\r\n";
  Folder f("Authentication-Results: " + id + ";");
  for (std::size_t i = 0; i < entries.size(); ++i) f.resinfo(entries[i], i + 1 == entries.size());
  return f.finish();
}

}  // namespace postern::mailauth
