#include "cli/dns_dkim.hpp"

#include "mailauth/dkim_key_file.hpp"

namespace postern::cli {

std::vector<dns_records::DkimPublication> dkim_publications(const config::Config& config,
                                                            const std::string& domain,
                                                            std::vector<std::string>& notes) {
  (void)config;
  (void)domain;
  (void)notes;
  return {};  // TEMPORARY until [[dkim]] config lands from the dkim branch
}

}  // namespace postern::cli
