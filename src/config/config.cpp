// The typed configuration's own behaviour (config/config.hpp): where a key
// was written, and the values derived from several keys. Loading is in
// load*.cpp, lints in lint*.cpp, networks in network.cpp.
#include "config/config.hpp"

namespace postern::config {

std::string Config::where_line(int line) const {
  const std::string name = embedded ? std::string(kEmbeddedName) : source.string();
  return line > 0 ? name + ":" + std::to_string(line) : name;
}

std::string Config::where(std::string_view key) const {
  const auto it = lines.find(key);
  return where_line(it == lines.end() ? 0 : it->second);
}

std::string AddressesConfig::effective_srs_domain(
    const std::string& hostname, const std::vector<std::string>& local_domains) const {
  if (!srs_domain.empty()) return srs_domain;
  // "mail.example.com" with local domain "example.com": SRS addresses are
  // made under example.com, whose SPF record names this server anyway.
  for (const auto& d : local_domains) {
    if (hostname == d || (hostname.size() > d.size() && hostname.ends_with("." + d))) return d;
  }
  return hostname;
}

std::string AddressesConfig::effective_default_domain(
    const std::string& hostname, const std::vector<std::string>& local_domains) const {
  if (!default_domain.empty()) return default_domain;
  return local_domains.empty() ? hostname : local_domains.front();
}

}  // namespace postern::config
