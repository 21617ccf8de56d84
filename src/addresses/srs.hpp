// The Sender Rewriting Scheme (SRS0, as libsrs2 and postsrsd write it), so
// that forwarded mail passes SPF at its destination: the envelope sender of
// a forwarded message becomes an address of ours that encodes the original
// one,
//
//   SRS0=HHHH=TT=orig-domain=orig-local@our-domain
//
// HHHH: the first 4 characters of base64(HMAC-SHA1(secret, lowercase(TT +
// orig-domain + orig-local))), compared without case because some MTAs
// change the case of local parts. TT: days since the epoch modulo 1024 in
// base32 (RFC 4648 alphabet), checked against `max_age_days`.
//
// A bounce to that address is decoded back to the original sender; a
// forged, altered or expired one is refused (so we are no open relay for
// backscatter). Pure: the secret and the time come from the caller.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::addresses {

struct SrsKey {
  // The first signs; every one verifies, so a secret can be rotated by
  // putting the new one first and keeping the old one for 21 days.
  std::vector<std::string> secrets;
  std::string domain;  // "example.com": the domain of the SRS addresses
  int max_age_days = 21;
};

enum class SrsStatus {
  ok,
  not_srs,    // the local part does not start with SRS0= (any case)
  malformed,  // SRS0= but not five '='-separated parts
  bad_hash,   // forged or altered
  expired,    // older than max_age_days (or from the future)
};

struct SrsDecoded {
  SrsStatus status = SrsStatus::not_srs;
  std::string original;  // "orig-local@orig-domain" when ok
};

// True when `local_part` starts with "SRS0=" (case-insensitive).
bool is_srs_local_part(std::string_view local_part);

// The SRS0 address for `sender` ("local@domain"), or nullopt when there is
// no secret or `sender` has no '@'. A sender that is already an SRS0
// address of ours is returned unchanged (mail forwarded twice by us).
std::optional<std::string> srs_forward(const SrsKey& key, std::string_view sender,
                                       std::chrono::system_clock::time_point now);

// Decodes the local part of an address at key.domain.
SrsDecoded srs_reverse(const SrsKey& key, std::string_view local_part,
                       std::chrono::system_clock::time_point now);

std::string_view to_string(SrsStatus status);

}  // namespace postern::addresses
