// Base64 (RFC 4648 §4) as DKIM uses it for p=, bh= and b= (RFC 6376 §2.4):
// the text may carry folding white space, which decoding skips.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postern::mailauth::dkim {

std::string base64_encode(std::string_view bytes);

// Skips SP, TAB, CR and LF; nullopt for any other character outside the
// alphabet, a length that is not a multiple of 4, or misplaced padding.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace postern::mailauth::dkim
