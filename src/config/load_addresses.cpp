// [addresses] (SPEC §1.9, docs/addresses.md): aliases, subaddresses, role
// addresses, SRS, and the smarthost sender map. The files named here are
// read by src/addresses when the server (or `postern check`) builds the
// address book; this only checks the keys.
#include "config/loader.hpp"
#include "core/text.hpp"

namespace postern::config {
namespace {

// The shape of "local@domain": one '@', something on each side, no white
// space. The full syntax check happens where the address is used.
bool looks_like_address(std::string_view a) {
  const auto at = a.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < a.size() &&
         a.find('@', at + 1) == std::string_view::npos &&
         a.find_first_of(" \t\r\n,<>") == std::string_view::npos;
}

}  // namespace

void Loader::load_addresses(const toml::table& root) {
  const toml::table* t = get_table(root, "addresses");
  if (!t) return;
  check_keys(*t, "addresses", kAddressesKeys);
  AddressesConfig& a = config_.addresses;
  if (auto v =
          get_string(*t, "aliases_file", "addresses.aliases_file", "\"/etc/postern/aliases\"")) {
    a.aliases_file = resolve(*v);
  }
  if (auto v = get_string(*t, "srs_secret_file", "addresses.srs_secret_file",
                          "\"/etc/postern/srs.key\"")) {
    a.srs_secret_file = resolve(*v);
  }
  if (auto v = get_string(*t, "recipient_delimiter", "addresses.recipient_delimiter", "\"+\"")) {
    if (v->find_first_of("@ \t\"<>,.") != std::string::npos) {
      error(config_.lines["addresses.recipient_delimiter"],
            "recipient_delimiter \"" + *v + "\" contains a character that cannot separate a tag",
            "use \"+\" (the usual), \"-\", or \"+-\" for both; \"\" turns subaddresses off");
    } else {
      a.recipient_delimiter = *v;
    }
  }
  auto domain_key = [&](std::string_view key, std::string& out) {
    const std::string full = "addresses." + std::string(key);
    if (auto v = get_string(*t, key, full, "\"example.com\"")) {
      std::string d = ascii_lower(*v);
      if (!d.empty() && d.back() == '.') d.pop_back();
      if (!is_hostname(d)) {
        error(config_.lines[full], full + " \"" + *v + "\" is not a domain name",
              "write a domain such as \"example.com\"");
      } else {
        out = d;
      }
    }
  };
  domain_key("srs_domain", a.srs_domain);
  domain_key("default_domain", a.default_domain);
  auto address_key = [&](std::string_view key, std::string& out) {
    const std::string full = "addresses." + std::string(key);
    if (auto v = get_string(*t, key, full, "\"alice@example.com\"")) {
      if (!looks_like_address(*v)) {
        error(config_.lines[full], full + " \"" + *v + "\" is not an address",
              "write one address such as \"alice@example.com\"");
      } else {
        out = *v;
      }
    }
  };
  address_key("postmaster", a.postmaster);
  address_key("abuse", a.abuse);
  if (auto b = get_bool(*t, "smarthost_rewrite_from", "addresses.smarthost_rewrite_from")) {
    a.smarthost_rewrite_from = *b;
  }
  if (const toml::node* n = find(*t, "smarthost_senders")) {
    note_line("addresses.smarthost_senders", *n);
    const toml::table* map = n->as_table();
    if (!map) {
      error(line_of(*n), "addresses.smarthost_senders must be a table",
            "write it as [addresses.smarthost_senders] with lines \"@example.com\" = "
            "\"account@provider.example\"");
      return;
    }
    for (auto&& [key, value] : *map) {
      const int line = static_cast<int>(key.source().begin.line);
      const std::string k(key.str());
      const bool key_ok = k == "*" || (k.size() > 1 && k.front() == '@') || looks_like_address(k);
      const auto* s = value.as_string();
      if (!key_ok) {
        error(line, "smarthost_senders key \"" + k + "\" is not an address, \"@domain\" or \"*\"",
              "write \"alice@example.com\", \"@example.com\" or \"*\" (everything else)");
      } else if (!s || !looks_like_address(s->get())) {
        error(line, "smarthost_senders \"" + k + "\" must map to an address",
              "write \"" + k +
                  "\" = \"account@provider.example\" (the address the smarthost "
                  "account may send as)");
      } else {
        a.smarthost_senders[ascii_lower(k)] = s->get();
      }
    }
  }
}

}  // namespace postern::config
