#include "config/loader.hpp"

#include <unistd.h>
#include <algorithm>

namespace postern::config {

void Loader::load_top(const toml::table& root) {
  if (auto h = get_string(root, "hostname", "hostname", "\"mail.example.com\"")) {
    const int line = config_.lines["hostname"];
    std::string name = ascii_lower(*h);
    if (!name.empty() && name.back() == '.') name.pop_back();
    if (!is_hostname(name)) {
      error(line, "hostname \"" + *h + "\" is not a valid host name",
            "use the fully qualified name this server is known by in DNS, e.g. "
            "hostname = \"mail.example.com\"");
    }
    config_.hostname = name;
  } else if (!find(root, "hostname")) {
    // Without a hostname we greet with the machine's own name, as Postfix
    // does for myhostname; `postern check` warns when it is not a FQDN.
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) == 0 && buf[0] != '\0') {
      config_.hostname = ascii_lower(buf);
    } else {
      config_.hostname = "localhost";
    }
    config_.hostname_from_system = true;
  }

  if (auto d = get_string(root, "data_dir", "data_dir", "\"/var/lib/postern\"")) {
    if (d->empty()) {
      error(config_.lines["data_dir"], "data_dir is empty",
            "set data_dir = \"/var/lib/postern\" (the spool and mailboxes live there)");
    } else {
      config_.data_dir = resolve(*d);
    }
  } else if (!find(root, "data_dir")) {
    error(0, "data_dir is not set",
          "add data_dir = \"/var/lib/postern\" at the top of the file (the spool and "
          "mailboxes live there)");
  }

  if (auto domains = get_string_array(root, "local_domains", "[\"example.com\"]")) {
    for (auto& [domain, line] : *domains) {
      std::string d = ascii_lower(domain);
      if (!d.empty() && d.back() == '.') d.pop_back();
      if (!is_hostname(d)) {
        error(line, "local_domains entry \"" + domain + "\" is not a domain name",
              "list bare domain names, e.g. local_domains = [\"example.com\"] (no @, no "
              "spaces, no ports)");
        continue;
      }
      if (std::find(config_.local_domains.begin(), config_.local_domains.end(), d) ==
          config_.local_domains.end()) {
        config_.local_domains.push_back(d);
      }
    }
  }

  if (auto nets = get_string_array(root, "relay_networks", "[\"127.0.0.0/8\", \"::1/128\"]")) {
    std::size_t index = 0;
    for (auto& [text, line] : *nets) {
      auto n = parse_network(text);
      if (!n) {
        error(line, "relay_networks entry \"" + text + "\" is not a network",
              "write address/prefix, e.g. \"192.168.1.0/24\" or \"fd00::/8\" (a bare "
              "address means that one host)");
        continue;
      }
      config_.lines["relay_networks[" + std::to_string(index++) + "]"] = line;
      config_.relay_networks.push_back(std::move(*n));
    }
  }
}

}  // namespace postern::config
