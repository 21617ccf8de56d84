#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>

namespace postern::net {
namespace {

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// TLS 1.2: forward-secret key exchange and AEAD ciphers only. No CBC mode
// (LUCKY13 and padding oracles), no CCM8 (8-byte tags), no static RSA key
// exchange. The order is the server's (SSL_OP_CIPHER_SERVER_PREFERENCE):
// AES-GCM first, for which every current CPU has instructions, then
// ChaCha20-Poly1305 for clients without them.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
// TLS 1.3 has only AEAD suites; these are the three every client offers
// (RFC 8446 §9.1), CCM ones left out.
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:prime256v1:secp384r1";

}  // namespace

std::shared_ptr<asio::ssl::context> make_server_tls_context(const std::filesystem::path& cert,
                                                            const std::filesystem::path& key) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  // TLS 1.2 is the floor (RFC 8996 deprecates 1.0 and 1.1).
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(
      native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Mozilla's "intermediate" profile (docs/listeners.md, "TLS settings").
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(native, kTls13Suites) != 1 ||
      SSL_CTX_set1_groups_list(native, kGroups) != 1) {
    throw std::runtime_error("the TLS library refused postern's cipher settings: " +
                             openssl_error());
  }
  // DHE key exchange uses the RFC 7919 group matching the certificate's
  // strength (ffdhe2048 for RSA-2048), not parameters of our own.
  SSL_CTX_set_dh_auto(native, 1);
  // Keep per-session memory small: release read/write buffers while idle.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  // One TLS 1.3 session ticket per full handshake, not OpenSSL's default
  // two: a mail client makes one connection at a time and gets a fresh
  // ticket each time it resumes, so the second is never used. Each ticket
  // costs the handshake a session encoding, an HKDF, an encryption and a
  // MAC (about 8 % of postern's instructions per STARTTLS connection;
  // bench/README.md, authenticated submission). Postfix 3.7 sends one too.
  SSL_CTX_set_num_tickets(native, 1);
  if (SSL_CTX_use_certificate_chain_file(native, cert.c_str()) != 1) {
    throw std::runtime_error("cannot load TLS certificate " + cert.string() + ": " +
                             openssl_error() + " (check [tls] cert; run `postern check`)");
  }
  if (SSL_CTX_use_PrivateKey_file(native, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("cannot load TLS key " + key.string() + ": " + openssl_error() +
                             " (check [tls] key; run `postern check`)");
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    throw std::runtime_error("TLS key " + key.string() + " does not match certificate " +
                             cert.string());
  }
  return ctx;
}

smtp::TlsInfo describe_tls(SSL* ssl) {
  smtp::TlsInfo info;
  info.version = SSL_get_version(ssl);
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl)) info.cipher = SSL_CIPHER_get_name(c);
  return info;
}

}  // namespace postern::net
