// Strong random passwords for new users (the embedded default's first user,
// `postern user add --generate`).
#pragma once

#include <string>

namespace postern::auth {

// 20 characters from an alphabet without look-alikes (no 0/O, 1/l/I):
// about 110 bits of entropy, easy to copy by hand.
std::string generate_password();

}  // namespace postern::auth
