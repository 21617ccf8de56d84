#include "auth/credential_cache.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace postern::auth {
namespace {

// Length-prefixed, so ("ab", "c") and ("a", "bc") never share a tag.
void absorb(crypto_generichash_state& st, std::string_view field) {
  const std::uint64_t n = field.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  crypto_generichash_update(&st, len, sizeof len);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(field.data()),
                            field.size());
}

}  // namespace

CredentialCache::CredentialCache(std::chrono::seconds ttl, std::size_t max_entries)
    : max_entries_(std::max<std::size_t>(1, max_entries)), ttl_(ttl) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  // Fresh for every process: a tag means nothing to another process or
  // after a restart.
  crypto_generichash_keygen(key_.data());
}

CredentialCache::Tag CredentialCache::tag_of(std::string_view user, std::string_view password,
                                             std::string_view stored_hash) const {
  Tag tag;
  crypto_generichash_state st;
  crypto_generichash_init(&st, key_.data(), key_.size(), tag.size());
  absorb(st, user);
  absorb(st, password);
  absorb(st, stored_hash);
  crypto_generichash_final(&st, tag.data(), tag.size());
  sodium_memzero(&st, sizeof st);
  return tag;
}

bool CredentialCache::hit(std::string_view user, std::string_view password,
                          std::string_view stored_hash, Clock::time_point now) {
  {
    std::lock_guard lock(mu_);
    if (ttl_.count() <= 0) return false;
    auto it = entries_.find(std::string(user));
    if (it == entries_.end()) return false;
    if (now - it->second.verified >= ttl_ || it->second.stored_hash != stored_hash) {
      entries_.erase(it);
      return false;
    }
  }
  // The keyed hash runs outside the lock: it is the only costly part.
  const Tag tag = tag_of(user, password, stored_hash);
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(user));
  if (it == entries_.end()) return false;
  // Constant time, so a near miss looks like a far one. A wrong password
  // leaves the entry alone: the right one stays cached for its owner.
  return sodium_memcmp(it->second.tag.data(), tag.data(), tag.size()) == 0 &&
         it->second.stored_hash == stored_hash && now - it->second.verified < ttl_;
}

void CredentialCache::remember(std::string_view user, std::string_view password,
                               std::string_view stored_hash, Clock::time_point now) {
  {
    std::lock_guard lock(mu_);
    if (ttl_.count() <= 0) return;
  }
  Entry entry{tag_of(user, password, stored_hash), std::string(stored_hash), now};
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(user));
  if (it == entries_.end() && entries_.size() >= max_entries_) evict_one_locked(now);
  entries_.insert_or_assign(std::string(user), std::move(entry));
}

void CredentialCache::evict_one_locked(Clock::time_point now) {
  // A full cache is rare (one entry per user): a linear pass is fine. The
  // expired go first, else the one verified longest ago.
  auto oldest = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (now - it->second.verified >= ttl_) {
      entries_.erase(it);
      return;
    }
    if (oldest == entries_.end() || it->second.verified < oldest->second.verified) oldest = it;
  }
  if (oldest != entries_.end()) entries_.erase(oldest);
}

void CredentialCache::drop_changed(
    const std::function<std::optional<std::string>(std::string_view user)>& current_hash) {
  std::lock_guard lock(mu_);
  std::erase_if(entries_, [&](const auto& kv) {
    const auto now_hash = current_hash(kv.first);
    return !now_hash || *now_hash != kv.second.stored_hash;
  });
}

void CredentialCache::clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
}

void CredentialCache::set_ttl(std::chrono::seconds ttl) {
  std::lock_guard lock(mu_);
  ttl_ = ttl;
  if (ttl_.count() <= 0) entries_.clear();
}

std::chrono::seconds CredentialCache::ttl() const {
  std::lock_guard lock(mu_);
  return ttl_;
}

std::size_t CredentialCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace postern::auth
