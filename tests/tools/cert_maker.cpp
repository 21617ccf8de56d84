#include "tools/cert_maker.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace postern::testing {
namespace {

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "cert_maker: %s failed\n", what);
    std::abort();
  }
}

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  require(ext != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509Ptr make(const std::string& cn, const std::vector<std::string>& dns, EVP_PKEY* key,
             X509* issuer, EVP_PKEY* issuer_key, bool ca, std::chrono::seconds from,
             std::chrono::seconds to) {
  static long serial = 1000;
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(from.count()));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(to.count()));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key);
  X509* issuer_cert = issuer ? issuer : cert.get();
  add_ext(cert.get(), issuer_cert, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  std::string san;
  for (const auto& d : dns) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  if (!san.empty()) add_ext(cert.get(), issuer_cert, NID_subject_alt_name, san);
  require(X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) != 0, "X509_sign");
  return cert;
}

}  // namespace

void make_certificate(const std::filesystem::path& cert_path, const std::filesystem::path& key_path,
                      const CertSpec& spec) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  require(key != nullptr, "EVP_EC_gen");
  X509Ptr ca;
  PkeyPtr ca_key;
  if (!spec.self_signed) {
    ca_key.reset(EVP_EC_gen("P-256"));
    ca = make("Test CA", {}, ca_key.get(), nullptr, nullptr, true, std::chrono::seconds(-86400),
              std::chrono::hours(24 * 365));
  }
  X509Ptr leaf = make(spec.common_name, spec.dns_names, key.get(), ca.get(), ca_key.get(), false,
                      spec.not_before, spec.not_after);

  FILE* f = std::fopen(cert_path.c_str(), "w");
  require(f != nullptr, "fopen cert");
  PEM_write_X509(f, leaf.get());
  if (ca) PEM_write_X509(f, ca.get());
  std::fclose(f);
  f = std::fopen(key_path.c_str(), "w");
  require(f != nullptr, "fopen key");
  PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

}  // namespace postern::testing
