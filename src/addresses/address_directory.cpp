#include "addresses/address_directory.hpp"

#include <chrono>

namespace postern::addresses {

bool AddressDirectory::is_local_domain(std::string_view domain) const {
  return book_->is_local_domain(domain) || book_->is_srs_domain(domain);
}

bool AddressDirectory::mailbox_exists(std::string_view address) const {
  return book_->resolve(address, std::chrono::system_clock::now()).status == Status::deliver;
}

bool AddressDirectory::user_owns_sender(std::string_view user, std::string_view sender) const {
  return book_->owns(user, sender);
}

std::vector<std::string> AddressDirectory::expand(std::string_view address) const {
  const Resolution r = book_->resolve(address, std::chrono::system_clock::now());
  if (r.status != Status::deliver) return {std::string(address)};
  std::vector<std::string> out;
  out.reserve(r.targets.size());
  for (const auto& t : r.targets) out.push_back(t.address);
  return out;
}

std::string AddressDirectory::postmaster() const {
  const auto& domains = book_->settings().local_domains;
  return domains.empty() ? std::string() : "postmaster@" + domains.front();
}

}  // namespace postern::addresses
