#include "addresses/srs.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "policy/address.hpp"

namespace postern::addresses {
namespace {

constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr int kTimestampModulus = 1024;  // two base32 digits
constexpr std::size_t kHashLength = 4;   // libsrs2's default

int today(std::chrono::system_clock::time_point now) {
  const auto days =
      std::chrono::duration_cast<std::chrono::hours>(now.time_since_epoch()).count() / 24;
  return static_cast<int>(days % kTimestampModulus);
}

std::string encode_timestamp(int t) {
  std::string out;
  out += kBase32[static_cast<std::size_t>((t >> 5) & 31)];
  out += kBase32[static_cast<std::size_t>(t & 31)];
  return out;
}

std::optional<int> decode_timestamp(std::string_view tt) {
  if (tt.size() != 2) return std::nullopt;
  int value = 0;
  for (char c : tt) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    const auto pos = kBase32.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    value = value * 32 + static_cast<int>(pos);
  }
  return value;
}

std::string hash(std::string_view secret, std::string_view tt, std::string_view domain,
                 std::string_view local) {
  const std::string data =
      policy::ascii_lower(std::string(tt) + std::string(domain) + std::string(local));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &mac_len);
  unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  EVP_EncodeBlock(b64, mac, static_cast<int>(mac_len));
  return std::string(reinterpret_cast<const char*>(b64), kHashLength);
}

bool equal_no_case(std::string_view a, std::string_view b) {
  return policy::ascii_lower(a) == policy::ascii_lower(b);
}

}  // namespace

bool is_srs_local_part(std::string_view local_part) {
  return local_part.size() >= 5 && equal_no_case(local_part.substr(0, 5), "SRS0=");
}

std::optional<std::string> srs_forward(const SrsKey& key, std::string_view sender,
                                       std::chrono::system_clock::time_point now) {
  if (key.secrets.empty() || key.domain.empty()) return std::nullopt;
  const auto at = sender.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == sender.size()) return std::nullopt;
  const std::string_view local = sender.substr(0, at);
  const std::string domain = policy::ascii_lower(sender.substr(at + 1));
  if (is_srs_local_part(local) && domain == policy::ascii_lower(key.domain)) {
    return std::string(sender);
  }
  const std::string tt = encode_timestamp(today(now));
  return "SRS0=" + hash(key.secrets.front(), tt, domain, local) + "=" + tt + "=" + domain + "=" +
         std::string(local) + "@" + policy::ascii_lower(key.domain);
}

SrsDecoded srs_reverse(const SrsKey& key, std::string_view local_part,
                       std::chrono::system_clock::time_point now) {
  SrsDecoded out;
  if (!is_srs_local_part(local_part)) return out;
  out.status = SrsStatus::malformed;
  // SRS0=HHHH=TT=domain=local: the original local part may itself contain
  // '=', so only the first three separators after "SRS0=" count.
  std::string_view rest = local_part.substr(5);
  std::string_view parts[3];
  for (auto& p : parts) {
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos) return out;
    p = rest.substr(0, eq);
    rest = rest.substr(eq + 1);
  }
  const std::string_view hh = parts[0], tt = parts[1], domain = parts[2];
  const std::string_view local = rest;
  if (hh.size() != kHashLength || domain.empty() || local.empty()) return out;
  const auto stamp = decode_timestamp(tt);
  if (!stamp) return out;
  bool signed_by_us = false;
  for (const auto& secret : key.secrets) {
    if (equal_no_case(hash(secret, tt, domain, local), hh)) signed_by_us = true;
  }
  if (!signed_by_us) {
    out.status = SrsStatus::bad_hash;
    return out;
  }
  // Age in days, modulo the timestamp's range (it wraps every 1024 days).
  const int age = (today(now) - *stamp + kTimestampModulus) % kTimestampModulus;
  if (age > key.max_age_days) {
    out.status = SrsStatus::expired;
    return out;
  }
  out.status = SrsStatus::ok;
  out.original = std::string(local) + "@" + std::string(domain);
  return out;
}

std::string_view to_string(SrsStatus status) {
  switch (status) {
    case SrsStatus::ok:
      return "ok";
    case SrsStatus::not_srs:
      return "not an SRS address";
    case SrsStatus::malformed:
      return "malformed SRS address";
    case SrsStatus::bad_hash:
      return "SRS hash does not match (forged or altered)";
    case SrsStatus::expired:
      return "SRS address expired";
  }
  return "?";
}

}  // namespace postern::addresses
