#include "cli/dns_dkim.hpp"

#include "mailauth/dkim/key.hpp"

namespace postern::cli {

std::vector<dns_records::DkimPublication> dkim_publications(const config::Config& config,
                                                            const std::string& domain,
                                                            std::vector<std::string>& notes) {
  std::vector<dns_records::DkimPublication> out;
  for (const auto& entry : config.dkim) {
    if (entry.domain != domain) continue;
    // Loading the configuration read and checked the key; a Config without
    // one for an entry is a bug there, said here rather than skipped.
    if (!entry.private_key) {
      notes.push_back("DKIM selector " + entry.selector + ": the key " + entry.key.string() +
                      " was not loaded");
      continue;
    }
    out.push_back({entry.selector, mailauth::dkim::public_key_record(*entry.private_key),
                   entry.key.string()});
  }
  return out;
}

}  // namespace postern::cli
