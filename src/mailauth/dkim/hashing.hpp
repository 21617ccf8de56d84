// The two hashes of a signature (RFC 6376 §3.7): the body hash and the
// hash over the selected header fields plus the signature field itself.
// Shared by the signer and the verifier so they cannot disagree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailauth/dkim/canonicalize.hpp"
#include "mailauth/dkim/message_view.hpp"

namespace postern::mailauth::dkim {

// SHA-256 of the canonical body, optionally cut at `limit` octets (l=).
// `canonical_length` receives the length of the whole canonical body.
std::string body_hash(Canon canon, std::string_view body, std::optional<std::uint64_t> limit,
                      std::uint64_t* canonical_length = nullptr);

// SHA-256 of the fields named in `names` selected bottom-up (§5.4.2: the
// n-th occurrence of a name picks the n-th field of that name counted from
// the bottom; a name with no field left contributes nothing), then
// `signature_field` canonicalised without its final CRLF (§3.7), whose b=
// value the caller has already emptied.
std::string header_hash(Canon canon, const std::vector<HeaderField>& fields,
                        const std::vector<std::string>& names, std::string_view signature_field);

// The part of header_hash's input before the signature field: the selected
// fields, canonicalised, in h= order. A signer with several keys computes it
// once and finishes each hash with header_hash_with().
std::string selected_headers(Canon canon, const std::vector<HeaderField>& fields,
                             const std::vector<std::string>& names);
std::string header_hash_with(Canon canon, std::string_view selected,
                             std::string_view signature_field);

}  // namespace postern::mailauth::dkim
