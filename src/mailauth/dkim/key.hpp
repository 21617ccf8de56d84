// DKIM keys: the private key a signer holds (RSA or Ed25519, PEM), the
// public key published in DNS, and the record that carries it
// (RFC 6376 §3.6.1, RFC 8463 §4). Pure: bytes in, bytes out.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using EVP_PKEY = struct evp_pkey_st;

namespace postern::mailauth::dkim {

enum class Algorithm { rsa_sha256, ed25519_sha256 };

std::string_view to_string(Algorithm a);  // "rsa-sha256", "ed25519-sha256" (a=)
std::string_view key_type(Algorithm a);   // "rsa", "ed25519" (k=)
std::optional<Algorithm> parse_algorithm(std::string_view a_tag);
std::optional<Algorithm> parse_key_type(std::string_view k_tag);

// RSA keys of fewer bits never pass verification (RFC 8301 §3.2) and are
// refused for signing; under the recommended size `postern check` warns.
inline constexpr int min_rsa_bits = 1024;
inline constexpr int recommended_rsa_bits = 2048;

// A key able to sign. Copies share the key; signing from several threads
// at once is safe (each signature has its own OpenSSL context).
class PrivateKey {
 public:
  Algorithm algorithm() const { return algorithm_; }
  int bits() const { return bits_; }
  // The p= value: base64 of the SubjectPublicKeyInfo for RSA (as every
  // signer publishes it), of the 32 raw octets for Ed25519 (RFC 8463 §4.2).
  std::string public_key_base64() const;
  // The private key as PKCS#8 PEM, for writing a generated key.
  std::string to_pem() const;
  // Signs a SHA-256 digest: RSASSA-PKCS1-v1_5 for rsa-sha256, PureEdDSA of
  // the digest for ed25519-sha256 (RFC 8463 §3). Empty on failure.
  std::string sign_digest(std::string_view sha256) const;

  EVP_PKEY* native() const { return key_.get(); }

 private:
  friend struct KeyAccess;
  struct Ed25519Secret;
  std::shared_ptr<EVP_PKEY> key_;
  // Ed25519 only: the key in libsodium's form (seed || public key), made
  // once when the key is loaded. OpenSSL 3.0's Ed25519 signing costs 2.5x
  // libsodium's for the same, deterministic, signature (measured: see
  // sign_digest), and it is the largest part of signing a small message.
  std::shared_ptr<const Ed25519Secret> ed25519_;
  Algorithm algorithm_ = Algorithm::rsa_sha256;
  int bits_ = 0;
};

struct PrivateKeyResult {
  std::optional<PrivateKey> key;
  std::string error;  // plain words when key is empty
};

// Reads a PEM private key (PKCS#8 "PRIVATE KEY", or "RSA PRIVATE KEY").
// Refuses other key types (EC, Ed448, DSA), public keys and certificates,
// and RSA under min_rsa_bits.
PrivateKeyResult parse_private_key(std::string_view pem);

// A fresh key: RSA of `bits` bits, or Ed25519 (bits ignored).
PrivateKeyResult generate_key(Algorithm algorithm, int bits);

// The TXT record value to publish for a key: "v=DKIM1; k=rsa; p=...".
std::string public_key_record(const PrivateKey& key);

// "key file contents -> the TXT record value to publish", for callers that
// only hold the PEM text (`postern dns`). Empty record and an error when the
// PEM is not a usable DKIM key.
struct RecordResult {
  std::string record;
  std::string error;
};
RecordResult public_key_record_for_pem(std::string_view pem);

// A public key taken from a key record, able to verify.
class PublicKey {
 public:
  Algorithm algorithm() const { return algorithm_; }
  int bits() const { return bits_; }
  bool verify_digest(std::string_view sha256, std::string_view signature) const;

 private:
  friend struct KeyAccess;
  std::shared_ptr<EVP_PKEY> key_;
  Algorithm algorithm_ = Algorithm::rsa_sha256;
  int bits_ = 0;
};

struct PublicKeyResult {
  std::optional<PublicKey> key;
  std::string error;
};
// `der_or_raw` is the decoded p= value for the given key type.
PublicKeyResult parse_public_key(Algorithm algorithm, std::string_view der_or_raw);

}  // namespace postern::mailauth::dkim
