// Defaults of [addresses] that depend on other keys.
#include "config/config.hpp"

namespace postern::config {

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
