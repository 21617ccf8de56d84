// A Directory held in memory, built from the configuration's local_domains
// and the users file. Rebuilt (and swapped) on reload.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "policy/directory.hpp"

namespace postern::policy {

class StaticDirectory : public Directory {
 public:
  StaticDirectory(std::vector<std::string> local_domains, std::vector<std::string> mailboxes);
  bool is_local_domain(std::string_view domain) const override;
  bool mailbox_exists(std::string_view address) const override;
  // A user owns its own address and its "+tag" subaddresses
  // (local+anything@domain), compared with the domain case-insensitive.
  bool user_owns_sender(std::string_view user, std::string_view sender) const override;

 private:
  std::set<std::string> domains_;    // lowercased
  std::set<std::string> mailboxes_;  // local part as is, domain lowercased
};

}  // namespace postern::policy
