#include "auth/password_generator.hpp"

#include <sodium.h>

#include <stdexcept>
#include <string_view>

namespace postern::auth {

std::string generate_password() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  static constexpr std::string_view kAlphabet =
      "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  for (int i = 0; i < 20; ++i) {
    out += kAlphabet[randombytes_uniform(static_cast<std::uint32_t>(kAlphabet.size()))];
  }
  return out;
}

}  // namespace postern::auth
