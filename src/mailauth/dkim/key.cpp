#include "mailauth/dkim/key.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "mailauth/dkim/base64.hpp"

namespace postern::mailauth::dkim {

struct PrivateKey::Ed25519Secret {
  unsigned char sk[crypto_sign_ed25519_SECRETKEYBYTES];
  ~Ed25519Secret() { sodium_memzero(sk, sizeof sk); }
};

struct KeyAccess {
  // Null when an Ed25519 key cannot be put in libsodium's form (it then
  // cannot sign: refused at load time rather than failing per message).
  static std::optional<PrivateKey> make_private(EVP_PKEY* raw, Algorithm a) {
    PrivateKey k;
    k.key_.reset(raw, EVP_PKEY_free);
    k.algorithm_ = a;
    k.bits_ = EVP_PKEY_get_bits(raw);
    if (a == Algorithm::ed25519_sha256) {
      unsigned char seed[crypto_sign_ed25519_SEEDBYTES];
      std::size_t len = sizeof seed;
      auto secret = std::make_shared<PrivateKey::Ed25519Secret>();
      unsigned char pk[crypto_sign_ed25519_PUBLICKEYBYTES];
      const bool ok = sodium_init() >= 0 && EVP_PKEY_get_raw_private_key(raw, seed, &len) == 1 &&
                      len == sizeof seed &&
                      crypto_sign_ed25519_seed_keypair(pk, secret->sk, seed) == 0;
      sodium_memzero(seed, sizeof seed);
      ERR_clear_error();
      if (!ok) return std::nullopt;
      k.ed25519_ = std::move(secret);
    }
    return k;
  }
  static PublicKey make_public(EVP_PKEY* raw, Algorithm a) {
    PublicKey k;
    k.key_.reset(raw, EVP_PKEY_free);
    k.algorithm_ = a;
    k.bits_ = EVP_PKEY_get_bits(raw);
    return k;
  }
  static EVP_PKEY* native(const PublicKey& k) { return k.key_.get(); }
};

namespace {

using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::optional<Algorithm> algorithm_of(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return Algorithm::rsa_sha256;
    case EVP_PKEY_ED25519:
      return Algorithm::ed25519_sha256;
    default:
      return std::nullopt;
  }
}

std::string_view type_name(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC:
      return "an EC (ECDSA) key";
    case EVP_PKEY_ED448:
      return "an Ed448 key";
    case EVP_PKEY_DSA:
      return "a DSA key";
    default:
      return "a key of a type DKIM does not use";
  }
}

}  // namespace

std::string_view to_string(Algorithm a) {
  return a == Algorithm::rsa_sha256 ? "rsa-sha256" : "ed25519-sha256";
}

std::string_view key_type(Algorithm a) {
  return a == Algorithm::rsa_sha256 ? "rsa" : "ed25519";
}

std::optional<Algorithm> parse_algorithm(std::string_view a_tag) {
  if (a_tag == "rsa-sha256") return Algorithm::rsa_sha256;
  if (a_tag == "ed25519-sha256") return Algorithm::ed25519_sha256;
  return std::nullopt;
}

std::optional<Algorithm> parse_key_type(std::string_view k_tag) {
  if (k_tag == "rsa") return Algorithm::rsa_sha256;
  if (k_tag == "ed25519") return Algorithm::ed25519_sha256;
  return std::nullopt;
}

std::string PrivateKey::public_key_base64() const {
  if (algorithm_ == Algorithm::ed25519_sha256) {
    unsigned char raw[32];
    std::size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key_.get(), raw, &len) != 1) return {};
    return base64_encode(std::string_view(reinterpret_cast<const char*>(raw), len));
  }
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key_.get(), &der);
  if (len <= 0) return {};
  std::string out = base64_encode(
      std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return out;
}

std::string PrivateKey::to_pem() const {
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string PrivateKey::sign_digest(std::string_view sha256) const {
  std::string sig;
  if (algorithm_ == Algorithm::ed25519_sha256) {
    // Ed25519 takes no separate digest: the "message" it signs is the
    // SHA-256 hash (RFC 8463 §3). Signed by libsodium with the key made at
    // load time: the same signature as OpenSSL's EVP_DigestSign (Ed25519
    // is deterministic; unit-tested), at 40 % of its cost, without a
    // context, a provider fetch and a hash of the private key per message.
    if (!ed25519_) return {};
    sig.resize(crypto_sign_ed25519_BYTES);
    unsigned long long len = 0;
    if (crypto_sign_ed25519_detached(reinterpret_cast<unsigned char*>(sig.data()), &len,
                                     bytes(sha256), sha256.size(), ed25519_->sk) != 0) {
      return {};
    }
    sig.resize(static_cast<std::size_t>(len));
    return sig;
  }
  // RSA: PKCS #1 v1.5 over the DigestInfo of the already computed hash.
  PkeyCtx ctx(EVP_PKEY_CTX_new(key_.get(), nullptr), EVP_PKEY_CTX_free);
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_sign(ctx.get(), nullptr, &len, bytes(sha256), sha256.size()) != 1) {
    ERR_clear_error();
    return {};
  }
  sig.resize(len);
  if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(sha256),
                    sha256.size()) != 1) {
    ERR_clear_error();
    return {};
  }
  sig.resize(len);
  return sig;
}

PrivateKeyResult parse_private_key(std::string_view pem) {
  PrivateKeyResult r;
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  ERR_clear_error();
  if (raw == nullptr) {
    if (pem.find("-----BEGIN PUBLIC KEY") != std::string_view::npos ||
        pem.find("-----BEGIN CERTIFICATE") != std::string_view::npos) {
      r.error = "it holds a public key or certificate, not a private key";
    } else if (pem.find("ENCRYPTED") != std::string_view::npos) {
      r.error = "the private key is encrypted with a passphrase";
    } else {
      r.error = "it is not a PEM private key";
    }
    return r;
  }
  const auto algorithm = algorithm_of(raw);
  if (!algorithm) {
    r.error = fmt::format("it is {}; DKIM signs with RSA or Ed25519", type_name(raw));
    EVP_PKEY_free(raw);
    return r;
  }
  std::optional<PrivateKey> made = KeyAccess::make_private(raw, *algorithm);
  if (!made) {
    r.error = "OpenSSL could not export the Ed25519 key for signing";
    return r;
  }
  PrivateKey key = std::move(*made);
  if (*algorithm == Algorithm::rsa_sha256 && key.bits() < min_rsa_bits) {
    r.error = fmt::format(
        "the RSA key has {} bits; receivers ignore signatures by keys under {} (RFC 8301)",
        key.bits(), min_rsa_bits);
    return r;
  }
  r.key = std::move(key);
  return r;
}

PrivateKeyResult generate_key(Algorithm algorithm, int bits) {
  PrivateKeyResult r;
  EVP_PKEY* raw = nullptr;
  if (algorithm == Algorithm::ed25519_sha256) {
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  } else {
    if (bits < min_rsa_bits) {
      r.error = fmt::format("RSA keys need at least {} bits", min_rsa_bits);
      return r;
    }
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits));
  }
  if (raw == nullptr) {
    ERR_clear_error();
    r.error = "OpenSSL could not generate the key";
    return r;
  }
  r.key = KeyAccess::make_private(raw, algorithm);
  if (!r.key) r.error = "OpenSSL could not export the generated Ed25519 key";
  return r;
}

std::string public_key_record(const PrivateKey& key) {
  return fmt::format("v=DKIM1; k={}; p={}", key_type(key.algorithm()), key.public_key_base64());
}

RecordResult public_key_record_for_pem(std::string_view pem) {
  RecordResult r;
  PrivateKeyResult k = parse_private_key(pem);
  if (!k.key) {
    r.error = std::move(k.error);
    return r;
  }
  r.record = public_key_record(*k.key);
  return r;
}

bool PublicKey::verify_digest(std::string_view sha256, std::string_view signature) const {
  bool ok = false;
  if (algorithm_ == Algorithm::ed25519_sha256) {
    MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(sha256),
                          sha256.size()) == 1;
  } else {
    PkeyCtx ctx(EVP_PKEY_CTX_new(key_.get(), nullptr), EVP_PKEY_CTX_free);
    ok = ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
         EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
         EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1 &&
         EVP_PKEY_verify(ctx.get(), bytes(signature), signature.size(), bytes(sha256),
                         sha256.size()) == 1;
  }
  ERR_clear_error();
  return ok;
}

PublicKeyResult parse_public_key(Algorithm algorithm, std::string_view der_or_raw) {
  PublicKeyResult r;
  EVP_PKEY* raw = nullptr;
  if (algorithm == Algorithm::ed25519_sha256) {
    if (der_or_raw.size() != 32) {
      r.error = fmt::format("an Ed25519 key is 32 octets, this one has {}", der_or_raw.size());
      return r;
    }
    raw = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(der_or_raw),
                                      der_or_raw.size());
  } else {
    // SubjectPublicKeyInfo, as published; some signers published the bare
    // RSAPublicKey that RFC 6376 §3.6.1 literally names, so try it too.
    const unsigned char* p = bytes(der_or_raw);
    raw = d2i_PUBKEY(nullptr, &p, static_cast<long>(der_or_raw.size()));
    if (raw == nullptr) {
      p = bytes(der_or_raw);
      raw = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der_or_raw.size()));
    }
  }
  ERR_clear_error();
  if (raw == nullptr) {
    r.error = "the p= value is not a public key";
    return r;
  }
  if (algorithm_of(raw) != algorithm) {
    r.error = fmt::format("the p= key is not a {} key", key_type(algorithm));
    EVP_PKEY_free(raw);
    return r;
  }
  r.key = KeyAccess::make_public(raw, algorithm);
  return r;
}

}  // namespace postern::mailauth::dkim
