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

}  // namespace

std::shared_ptr<asio::ssl::context> make_server_tls_context(const std::filesystem::path& cert,
                                                            const std::filesystem::path& key) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  // TLS 1.2 is the floor (RFC 8996 deprecates 1.0 and 1.1).
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(
      native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_cipher_list(native, "HIGH:!aNULL:!MD5:!RC4:!3DES");
  // Keep per-session memory small: release read/write buffers while idle.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
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
