// [[dkim]] tables (SPEC §1.7, §2): domain, selector, key. The key file is
// read and checked here, so a key that cannot sign refuses the whole file
// (at start-up and on reload) with file:line, and the server never runs
// with a [[dkim]] entry that signs with nothing.
#include <fmt/format.h>

#include "config/loader.hpp"
#include "mailauth/dkim_key_file.hpp"

namespace postern::config {
namespace {

// Selectors are DNS labels joined by dots (RFC 6376 §3.1).
bool is_selector(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '.' || s.back() == '.') return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return s.find("..") == std::string_view::npos;
}

}  // namespace

void Loader::load_dkim(const toml::table& root) {
  const toml::node* n = find(root, "dkim");
  if (!n) return;
  const toml::array* entries = n->as_array();
  if (!entries || !entries->is_array_of_tables()) {
    error(line_of(*n), "dkim must be an array of tables, found " + std::string(type_name(*n)),
          "write each key as its own [[dkim]] section (double brackets) with domain, selector "
          "and key");
    return;
  }
  for (const toml::node& node : *entries) {
    const toml::table& t = *node.as_table();
    const int line = line_of(t);
    check_keys(t, "dkim", kDkimKeys);
    DkimConfig d;
    d.line = line;
    const auto domain = get_string(t, "domain", "dkim.domain", "\"example.com\"");
    const auto selector = get_string(t, "selector", "dkim.selector", "\"2026r\"");
    const auto key =
        get_string(t, "key", "dkim.key", "\"/etc/postern/dkim/example.com.2026r.pem\"");
    if (!domain || !selector || !key || domain->empty() || selector->empty() || key->empty()) {
      error(line, "[[dkim]] needs domain, selector and key",
            "for example\n        [[dkim]]\n        domain   = \"example.com\"\n        selector "
            "= \"2026r\"\n        key      = \"/etc/postern/dkim/example.com.2026r.pem\"\n      "
            "(postern dkim keygen example.com --selector 2026r writes the key and prints these "
            "lines)");
      continue;
    }
    d.domain = ascii_lower(*domain);
    if (d.domain.ends_with('.')) d.domain.pop_back();
    if (!is_hostname(d.domain)) {
      error(line_of(*find(t, "domain")), "dkim domain \"" + *domain + "\" is not a domain name",
            "write the domain of the From: addresses to sign, e.g. \"example.com\"");
      continue;
    }
    if (!is_selector(*selector)) {
      error(line_of(*find(t, "selector")), "dkim selector \"" + *selector + "\" is not a DNS label",
            "use letters, digits and hyphens, e.g. \"2026r\" (it becomes " + *selector +
                "._domainkey." + d.domain + ")");
      continue;
    }
    d.selector = *selector;
    d.key = resolve(*key);
    for (const DkimConfig& other : config_.dkim) {
      if (other.domain == d.domain && other.selector == d.selector) {
        error(line,
              fmt::format("a second [[dkim]] for {} with selector {} (the first is at line {})",
                          d.domain, d.selector, other.line),
              "give each key of a domain its own selector, or remove one of the entries");
      }
    }
    const int key_line = line_of(*find(t, "key"));
    mailauth::KeyFile f = mailauth::read_key_file(d.key);
    if (!f.key) {
      const std::string fix =
          f.missing
              ? fmt::format(
                    "create it with `postern dkim keygen {} --selector {} --key {}`, or "
                    "correct the path",
                    d.domain, d.selector, d.key.string())
              : fmt::format(
                    "the file must hold an unencrypted RSA (2048 bits) or Ed25519 private key "
                    "in PEM, readable by the server's user; `postern dkim keygen {} --selector "
                    "{}` writes one",
                    d.domain, d.selector);
      const char* sep = f.missing || f.error.starts_with("cannot") ? " " : ": ";
      error(key_line, fmt::format("dkim key {}{}{}", d.key.string(), sep, f.error), fix);
      continue;
    }
    d.private_key = std::move(f.key);
    config_.dkim.push_back(std::move(d));
  }
}

}  // namespace postern::config
