// What the SMTP session may ask about addresses, without doing I/O: the
// answers come from configuration and the users file, held in memory.
#pragma once

#include <string_view>

namespace postern::policy {

class Directory {
 public:
  virtual ~Directory() = default;
  // Domain comparison is case-insensitive; `domain` is an A-label or UTF-8.
  virtual bool is_local_domain(std::string_view domain) const = 0;
  // A mailbox exists for this full address (local part exact after
  // normalisation, domain case-insensitive).
  virtual bool mailbox_exists(std::string_view address) const = 0;
  // The authenticated `user` may use `sender` as envelope sender.
  virtual bool user_owns_sender(std::string_view user, std::string_view sender) const = 0;
  // True when mailboxes live in an outside user database (Dovecot's
  // userdb): mailbox_exists() cannot answer without I/O, so the session
  // asks the driver with a LookupRecipient action instead.
  virtual bool mailboxes_are_remote() const { return false; }
};

}  // namespace postern::policy
