// What the server's certificate says and what is wrong with it, in the
// order a person can act on (SPEC §3.1): expired or not yet valid,
// self-signed, issued for other names, not chained to a trusted root.
#pragma once

#include <openssl/ssl.h>

#include <string>
#include <vector>

#include "probe/probe.hpp"

namespace postern::probe {

// Watches the handshakes made with one SSL_CTX: keeps the peer's leaf
// certificate and every verification error OpenSSL finds (the callback
// lets the handshake go on, so all of them are seen, not only the first).
class CertificateCollector {
 public:
  CertificateCollector() = default;
  ~CertificateCollector();
  CertificateCollector(const CertificateCollector&) = delete;
  CertificateCollector& operator=(const CertificateCollector&) = delete;

  // The collector must outlive every handshake made with `context`.
  void install(SSL_CTX* context);
  // Forget the previous handshake (before a new connection).
  void reset();
  // After a handshake: the certificate as seen for `host` (a name or an IP
  // literal). present = false when the server sent none.
  CertificateInfo info(const std::string& host) const;

 private:
  static int verify_callback(int preverify_ok, X509_STORE_CTX* store);
  X509* leaf_ = nullptr;
  std::vector<int> errors_;  // X509_V_ERR_*, in the order found
};

// The first problem worth stopping for, or Diagnosis::ok (pure).
Diagnosis certificate_problem(const CertificateInfo& info);

}  // namespace postern::probe
