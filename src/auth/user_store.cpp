#include "auth/user_store.hpp"

#include <sodium.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/durable_file.hpp"
#include "core/text.hpp"

namespace postern::auth {
namespace {

void ensure_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

bool valid_address(std::string_view a) {
  const auto at = a.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= a.size()) return false;
  if (a.find('@', at + 1) != std::string_view::npos) return false;
  for (char c : a) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u == 127 || c == ':') return false;
  }
  return true;
}

}  // namespace

std::string normalize_address(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return std::string(address);
  return std::string(address.substr(0, at + 1)) + ascii_lower(address.substr(at + 1));
}

std::string hash_password(std::string_view password) {
  ensure_sodium();
  // OPSLIMIT/MEMLIMIT_INTERACTIVE (2 passes, 64 MiB): the libsodium
  // recommendation for online logins. Each AUTH costs tens of milliseconds
  // on one pool thread, which the failure throttle keeps rare.
  char out[crypto_pwhash_argon2id_STRBYTES];
  if (crypto_pwhash_argon2id_str(out, password.data(), password.size(),
                                 crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE) != 0) {
    throw std::runtime_error("out of memory while hashing a password");
  }
  return out;
}

bool verify_password(std::string_view hash, std::string_view password) {
  ensure_sodium();
  if (hash.rfind("$argon2id$", 0) != 0) return false;
  const std::string h(hash);  // needs a NUL-terminated string
  return crypto_pwhash_argon2id_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

UserStore UserStore::load(const std::filesystem::path& path, std::vector<std::string>* problems,
                          std::error_code& ec) {
  UserStore store;
  ec.clear();
  std::ifstream in(path);
  if (!in) {
    if (std::filesystem::exists(path)) ec = std::make_error_code(std::errc::permission_denied);
    return store;  // a missing file is an empty store
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    const auto colon = line.find(':');
    auto report = [&](const std::string& why) {
      if (problems) problems->push_back(path.string() + ":" + std::to_string(number) + ": " + why);
    };
    if (colon == std::string::npos) {
      report("expected address:hash");
      continue;
    }
    const std::string address = line.substr(0, colon);
    const std::string hash = line.substr(colon + 1);
    if (!valid_address(address)) {
      report("not a valid address: " + address);
      continue;
    }
    if (hash.rfind("$argon2id$", 0) != 0) {
      report("hash for " + address + " is not argon2id; reset it with `postern user passwd`");
      continue;
    }
    if (!store.users_.emplace(normalize_address(address), hash).second) {
      report("duplicate user " + address + " (the first line wins)");
    }
  }
  return store;
}

bool UserStore::exists(std::string_view address) const {
  return users_.count(normalize_address(address)) > 0;
}

std::optional<std::string> UserStore::hash_for(std::string_view address) const {
  auto it = users_.find(normalize_address(address));
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> UserStore::addresses() const {
  std::vector<std::string> out;
  out.reserve(users_.size());
  for (const auto& [a, h] : users_) out.push_back(a);
  return out;
}

bool UserStore::add(std::string_view address, std::string hash) {
  if (!valid_address(address)) return false;
  return users_.emplace(normalize_address(address), std::move(hash)).second;
}

bool UserStore::set_hash(std::string_view address, std::string hash) {
  auto it = users_.find(normalize_address(address));
  if (it == users_.end()) return false;
  it->second = std::move(hash);
  return true;
}

bool UserStore::remove(std::string_view address) {
  return users_.erase(normalize_address(address)) > 0;
}

std::error_code UserStore::save(const std::filesystem::path& path) const {
  std::ostringstream out;
  out << "# postern users: address:argon2id-hash. Manage with `postern user`.\n";
  for (const auto& [a, h] : users_) out << a << ':' << h << '\n';
  return write_file_durably(path, out.str(), 0640);
}

}  // namespace postern::auth
