// The Directory used with [auth] backend = "dovecot": local domains and
// sender ownership as usual, but mailboxes are Dovecot's users, so RCPT asks
// Dovecot's userdb (the session's LookupRecipient action) instead of
// answering from memory.
#pragma once

#include <string>
#include <vector>

#include "policy/static_directory.hpp"

namespace postern::dovecot {

class DovecotDirectory : public policy::StaticDirectory {
 public:
  explicit DovecotDirectory(std::vector<std::string> local_domains)
      : StaticDirectory(std::move(local_domains), {}) {}
  bool mailboxes_are_remote() const override { return true; }
};

}  // namespace postern::dovecot
