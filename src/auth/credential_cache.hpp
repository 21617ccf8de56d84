// Remembers successful password checks for a while (SPEC §1.10, [auth]
// cache_ttl), so a client that logs in for every message costs one argon2id
// hash per cache_ttl instead of one per message.
//
// What is kept per user is a tag: a BLAKE2b hash, keyed with a secret drawn
// at random when the process starts, of (user, password, stored hash). The
// password itself is never kept, and a tag read out of memory is no help
// offline without the key. The stored hash is part of the tag, so a changed
// password (or a removed user) no longer matches the moment the users file
// is re-read; drop_changed() then frees those entries too.
#pragma once

#include <sodium.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace postern::auth {

class CredentialCache {
 public:
  using Clock = std::chrono::steady_clock;
  // One entry per user; past max_entries the oldest-expiring entry goes.
  static constexpr std::size_t kDefaultMaxEntries = 100000;

  explicit CredentialCache(std::chrono::seconds ttl, std::size_t max_entries = kDefaultMaxEntries);

  // Thread-safe. True when this (user, password) passed against this very
  // stored hash less than ttl ago. A ttl of 0 turns the cache off.
  bool hit(std::string_view user, std::string_view password, std::string_view stored_hash,
           Clock::time_point now);
  // Call only after the password was verified against stored_hash.
  void remember(std::string_view user, std::string_view password, std::string_view stored_hash,
                Clock::time_point now);
  // After the users file was re-read: entries whose user is gone or whose
  // stored hash changed are dropped. `current_hash` answers for a user.
  void drop_changed(
      const std::function<std::optional<std::string>(std::string_view user)>& current_hash);
  void clear();
  void set_ttl(std::chrono::seconds ttl);  // a reload; a shorter ttl applies to old entries too
  std::chrono::seconds ttl() const;
  std::size_t size() const;

 private:
  using Tag = std::array<unsigned char, crypto_generichash_BYTES>;
  struct Entry {
    Tag tag;
    std::string stored_hash;
    Clock::time_point verified;
  };
  Tag tag_of(std::string_view user, std::string_view password, std::string_view stored_hash) const;
  void evict_one_locked(Clock::time_point now);

  std::array<unsigned char, crypto_generichash_KEYBYTES> key_;
  const std::size_t max_entries_;
  mutable std::mutex mu_;
  std::chrono::seconds ttl_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace postern::auth
