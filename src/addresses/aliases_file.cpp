#include "addresses/aliases_file.hpp"

#include <algorithm>

#include "policy/address.hpp"

namespace postern::addresses {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// A '#' at the start or after white space starts a comment; inside an
// address ("a#b@example.com" is valid atext) it does not.
std::string_view strip_comment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return line.substr(0, i);
    }
  }
  return line;
}

// Lowercases the domain, keeps the local part; qualifies a bare name.
std::string qualify(std::string_view address, std::string_view default_domain) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) {
    return std::string(address) + "@" + policy::ascii_lower(default_domain);
  }
  return std::string(address.substr(0, at + 1)) + policy::ascii_lower(address.substr(at + 1));
}

bool valid_address(std::string_view address) {
  return policy::parse_path("<" + std::string(address) + ">", true).has_value();
}

struct Logical {
  std::string text;
  int line = 0;
};

// Joins continuation lines (leading white space) to the line they continue.
std::vector<Logical> logical_lines(std::string_view text) {
  std::vector<Logical> out;
  int number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++number;
    const bool continues = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    const std::string_view content = trim(strip_comment(raw));
    if (content.empty()) continue;
    if (continues && !out.empty()) {
      out.back().text += " ";
      out.back().text += content;
    } else {
      out.push_back({std::string(content), number});
    }
  }
  return out;
}

}  // namespace

std::string canonical_address(std::string_view address, std::string_view default_domain) {
  if (address.find('@') == std::string_view::npos && default_domain.empty()) {
    return policy::ascii_lower(address);
  }
  return policy::ascii_lower(qualify(address, default_domain));
}

AliasFile parse_aliases(std::string_view text, std::string_view name,
                        std::string_view default_domain) {
  AliasFile file;
  auto error = [&](int line, const std::string& what) {
    file.errors.push_back(std::string(name) + ":" + std::to_string(line) + ": " + what);
  };
  std::vector<std::string> seen;
  for (const Logical& l : logical_lines(text)) {
    const auto colon = l.text.find(':');
    if (colon == std::string::npos) {
      error(l.line, "no ':' after the alias (write \"alias@domain: target, target\")");
      continue;
    }
    const std::string_view key = trim(std::string_view(l.text).substr(0, colon));
    const std::string_view rest = trim(std::string_view(l.text).substr(colon + 1));
    AliasEntry e;
    e.line = l.line;
    if (key.size() > 1 && key.front() == '@') {
      if (!valid_address("x" + std::string(key))) {
        error(l.line,
              "\"" + std::string(key) + "\" is not a domain (write \"@example.com: target\")");
        continue;
      }
      e.alias = policy::ascii_lower(key);
    } else if (key.empty() || key.find_first_of(" \t,") != std::string_view::npos ||
               (key.find('@') != std::string_view::npos && !valid_address(key)) ||
               (key.find('@') == std::string_view::npos &&
                !valid_address(std::string(key) + "@x"))) {
      error(l.line, "\"" + std::string(key) +
                        "\" is not an address (write \"alias@domain: target\", \"@domain: target\" "
                        "for a catch-all, or a bare name for the default domain)");
      continue;
    } else if (key.find('@') == std::string_view::npos && default_domain.empty()) {
      error(l.line, "\"" + std::string(key) +
                        "\" has no domain and there is no default domain (write it as "
                        "\"" +
                        std::string(key) + "@example.com\")");
      continue;
    } else {
      e.alias = canonical_address(key, default_domain);
    }
    if (std::find(seen.begin(), seen.end(), e.alias) != seen.end()) {
      error(l.line, "\"" + e.alias + "\" is defined twice (list all its targets on one line)");
      continue;
    }
    bool ok = true;
    std::size_t start = 0;
    const std::string list(rest);
    while (start <= list.size()) {
      auto comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      const std::string_view t = trim(std::string_view(list).substr(start, comma - start));
      start = comma + 1;
      if (t.empty()) continue;
      if (t.front() == '|' || t.front() == '/' || t.starts_with(":include:")) {
        error(l.line, "\"" + std::string(t) +
                          "\": pipes, files and :include: are not supported (targets are "
                          "mailboxes or addresses)");
        ok = false;
        continue;
      }
      const bool bare = t.find('@') == std::string_view::npos;
      if (bare && default_domain.empty()) {
        error(l.line, "target \"" + std::string(t) +
                          "\" has no domain and there is no default domain (write "
                          "\"" +
                          std::string(t) + "@example.com\")");
        ok = false;
        continue;
      }
      const std::string target = qualify(t, default_domain);
      if (!valid_address(target)) {
        error(l.line, "target \"" + std::string(t) + "\" is not an address");
        ok = false;
        continue;
      }
      if (std::find(e.targets.begin(), e.targets.end(), target) == e.targets.end()) {
        e.targets.push_back(target);
      }
    }
    if (!ok) continue;
    if (e.targets.empty()) {
      error(l.line, "\"" + std::string(key) + "\" has no target (write \"" + std::string(key) +
                        ": someone@example.com\")");
      continue;
    }
    seen.push_back(e.alias);
    file.entries.push_back(std::move(e));
  }
  return file;
}

}  // namespace postern::addresses
