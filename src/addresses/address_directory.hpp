// The policy::Directory the SMTP session asks (users, aliases, catch-alls,
// subaddresses, role and SRS addresses), answered by an AddressBook. One is
// built per load of the users and aliases files and swapped on reload.
#pragma once

#include <memory>

#include "addresses/address_book.hpp"
#include "policy/directory.hpp"

namespace postern::addresses {

class AddressDirectory : public policy::Directory {
 public:
  explicit AddressDirectory(std::shared_ptr<const AddressBook> book) : book_(std::move(book)) {}

  // Local domains, and the SRS domain (bounces to our SRS addresses).
  bool is_local_domain(std::string_view domain) const override;
  // The address resolves to at least one mailbox or remote target; a
  // forged or expired SRS address does not (550 5.1.1).
  bool mailbox_exists(std::string_view address) const override;
  bool user_owns_sender(std::string_view user, std::string_view sender) const override;
  std::vector<std::string> expand(std::string_view address) const override;
  std::string postmaster() const override;

  const AddressBook& book() const { return *book_; }

 private:
  std::shared_ptr<const AddressBook> book_;
};

}  // namespace postern::addresses
