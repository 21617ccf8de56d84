// What the SMTP session may ask about addresses, without doing I/O: the
// answers come from configuration and the users file, held in memory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace postern::policy {

class Directory {
 public:
  virtual ~Directory() = default;
  // Domain comparison is case-insensitive; `domain` is an A-label or UTF-8.
  virtual bool is_local_domain(std::string_view domain) const = 0;
  // A mailbox exists for this full address (local part exact after
  // normalisation, domain case-insensitive).
  virtual bool mailbox_exists(std::string_view address) const = 0;
  // The authenticated `user` may use `sender` as envelope sender (and as an
  // address in the header From: and Sender:, SPEC §1.9).
  virtual bool user_owns_sender(std::string_view user, std::string_view sender) const = 0;
  // Where mail accepted for `address` (which mailbox_exists() accepted)
  // goes: the canonical mailboxes and remote addresses it stands for, with
  // aliases expanded, the "+tag" removed and an SRS address decoded (SPEC
  // §1.9). The address itself when there is nothing to expand.
  virtual std::vector<std::string> expand(std::string_view address) const {
    return {std::string(address)};
  }
  // The full address "RCPT TO:<Postmaster>" (no domain, RFC 5321 §4.1.1.3)
  // stands for; empty when the directory knows none.
  virtual std::string postmaster() const { return {}; }
  // True when mailboxes live in an outside user database (Dovecot's
  // userdb): mailbox_exists() cannot answer without I/O, so the session
  // asks the driver with a LookupRecipient action instead.
  virtual bool mailboxes_are_remote() const { return false; }
};

}  // namespace postern::policy
