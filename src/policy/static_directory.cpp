#include "policy/static_directory.hpp"

#include "policy/address.hpp"

namespace postern::policy {
namespace {

// Domain part lowercased, local part as is (RFC 5321 §2.4: local parts
// may be case-sensitive).
std::string normalize(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return std::string(address);
  return std::string(address.substr(0, at + 1)) + ascii_lower(address.substr(at + 1));
}

}  // namespace

StaticDirectory::StaticDirectory(std::vector<std::string> local_domains,
                                 std::vector<std::string> mailboxes) {
  for (const auto& d : local_domains) domains_.insert(ascii_lower(d));
  for (const auto& m : mailboxes) mailboxes_.insert(normalize(m));
}

bool StaticDirectory::is_local_domain(std::string_view domain) const {
  std::string d = ascii_lower(domain);
  if (!d.empty() && d.back() == '.') d.pop_back();  // "example.com." is example.com
  return domains_.count(d) > 0;
}

bool StaticDirectory::mailbox_exists(std::string_view address) const {
  return mailboxes_.count(normalize(address)) > 0;
}

bool StaticDirectory::user_owns_sender(std::string_view user, std::string_view sender) const {
  const std::string u = normalize(user);
  const std::string s = normalize(sender);
  if (u == s) return true;
  // Subaddress: "alice+lists@example.com" belongs to alice@example.com.
  const auto u_at = u.rfind('@');
  const auto s_at = s.rfind('@');
  if (u_at == std::string::npos || s_at == std::string::npos) return false;
  if (u.substr(u_at) != s.substr(s_at)) return false;
  const std::string s_local = s.substr(0, s_at);
  const auto plus = s_local.find('+');
  return plus != std::string::npos && s_local.substr(0, plus) == u.substr(0, u_at);
}

}  // namespace postern::policy
