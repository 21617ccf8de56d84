// SASL pieces the SMTP session needs (RFC 4954): base64 and the PLAIN
// (RFC 4616) and LOGIN (draft-murchison-sasl-login) mechanisms.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postern::sasl {

std::string base64_encode(std::string_view data);
// Strict: rejects characters outside the alphabet and bad padding.
std::optional<std::string> base64_decode(std::string_view text);

struct PlainCredentials {
  std::string authzid;  // usually empty; must equal authcid if present
  std::string authcid;
  std::string password;
};

// Decodes the base64 PLAIN response "authzid NUL authcid NUL password".
std::optional<PlainCredentials> decode_plain(std::string_view base64_response);

}  // namespace postern::sasl
