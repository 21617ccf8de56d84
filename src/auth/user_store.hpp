// The users file: one `address:hash` line per user, argon2id hashes in the
// libsodium/PHC string form ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
// Lines starting with '#' and blank lines are ignored.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace postern::auth {

// Normalises an address for lookups: all lowercase, local part included
// (SPEC §1.9: local parts are matched without case).
std::string normalize_address(std::string_view address);

// argon2id via libsodium (crypto_pwhash_str). Slow on purpose.
std::string hash_password(std::string_view password);
bool verify_password(std::string_view hash, std::string_view password);

class UserStore {
 public:
  // Loads the file. A missing file is an empty store. Malformed lines are
  // reported in `problems` ("users:3: ...") and skipped.
  static UserStore load(const std::filesystem::path& path, std::vector<std::string>* problems,
                        std::error_code& ec);

  bool exists(std::string_view address) const;
  std::optional<std::string> hash_for(std::string_view address) const;
  std::vector<std::string> addresses() const;

  // Editing: changes memory; save() writes the file atomically and durably.
  bool add(std::string_view address, std::string hash);       // false if present
  bool set_hash(std::string_view address, std::string hash);  // false if absent
  bool remove(std::string_view address);                      // false if absent
  std::error_code save(const std::filesystem::path& path) const;

 private:
  std::map<std::string, std::string> users_;  // normalised address -> hash
};

}  // namespace postern::auth
