// Certificate generation and inspection with OpenSSL 3 EVP interfaces only
// (no deprecated EC_KEY/RSA calls).
#include "tls/certificate.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>

#include "core/durable_file.hpp"
#include "core/text.hpp"

namespace postern::tls {
namespace {

namespace fs = std::filesystem;

// Validity of the generated certificate: 825 days is the longest lifetime
// mainstream TLS clients have accepted for server certificates, and one hour
// of back-dating absorbs clock skew between server and client.
constexpr long kValidityDays = 825;
constexpr long kBackdateSeconds = 3600;

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;

std::string openssl_error(std::string_view fallback) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return std::string(fallback);
  const char* reason = ERR_reason_error_string(e);
  if (reason) return reason;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

bool add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

bool is_ip(const std::string& host) {
  return !host.empty() && (host.find(':') != std::string::npos ||
                           std::all_of(host.begin(), host.end(), [](unsigned char c) {
                             return std::isdigit(c) || c == '.';
                           }));
}

std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return bio_to_string(bio.get());
}

}  // namespace

std::string generate_self_signed(const fs::path& cert_path, const fs::path& key_path,
                                 const std::string& hostname) {
  ERR_clear_error();
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return "cannot generate an EC P-256 key: " + openssl_error("EVP_EC_gen failed");

  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return "cannot create a certificate: " + openssl_error("X509_new failed");
  }
  // A random positive 127-bit serial (RFC 5280 §4.1.2.2: at most 20 octets,
  // positive; CA/B guidance: at least 64 random bits).
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return "no randomness for the serial number";
  serial[0] &= 0x7f;
  BnPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()))) {
    return "cannot set the serial number: " + openssl_error("BN_to_ASN1_INTEGER failed");
  }
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(kValidityDays), 0,
                        nullptr)) {
    return "cannot set the validity period";
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = hostname.empty() ? "localhost" : hostname;
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key.get()) != 1) {
    return "cannot set the certificate names: " + openssl_error("X509_NAME failed");
  }

  std::string san;
  if (cn != "localhost") san = (is_ip(cn) ? "IP:" : "DNS:") + cn + ",";
  san += "DNS:localhost,IP:127.0.0.1,IP:::1";
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  if (!add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature") ||
      !add_extension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth") ||
      !add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash") ||
      !add_extension(cert.get(), &ctx, NID_subject_alt_name, san)) {
    return "cannot add certificate extensions: " + openssl_error("X509V3_EXT_conf_nid failed");
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return "cannot sign the certificate: " + openssl_error("X509_sign failed");
  }

  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    return "cannot encode the certificate: " + openssl_error("PEM write failed");
  }

  std::error_code ec;
  for (const auto& p : {cert_path, key_path}) {
    if (p.has_parent_path()) {
      fs::create_directories(p.parent_path(), ec);
      if (ec) return "cannot create " + p.parent_path().string() + ": " + ec.message();
    }
  }
  // The key first: a certificate on disk without its key is the worse
  // half-state to be left in.
  if (auto err = write_file_durably(key_path, bio_to_string(key_bio.get()), 0600)) {
    return "cannot write " + key_path.string() + ": " + err.message();
  }
  if (auto err = write_file_durably(cert_path, bio_to_string(cert_bio.get()), 0644)) {
    return "cannot write " + cert_path.string() + ": " + err.message();
  }
  return {};
}

CertificateReport inspect(const fs::path& cert_path, const fs::path& key_path) {
  CertificateReport r;
  ERR_clear_error();
  std::error_code ec;

  X509Ptr cert;
  if (!fs::exists(cert_path, ec)) {
    r.load_error = "no such file";
  } else if (fs::is_directory(cert_path, ec)) {
    r.load_error = "it is a directory";
  } else {
    BioPtr bio(BIO_new_file(cert_path.c_str(), "r"));
    if (!bio) {
      r.load_error = "cannot open it: " + openssl_error("permission denied");
    } else {
      cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
      if (!cert) r.load_error = "no PEM certificate in it (" + openssl_error("bad PEM") + ")";
    }
  }

  PkeyPtr key;
  if (!fs::exists(key_path, ec)) {
    r.key_error = "no such file";
  } else if (fs::is_directory(key_path, ec)) {
    r.key_error = "it is a directory";
  } else {
    BioPtr bio(BIO_new_file(key_path.c_str(), "r"));
    if (!bio) {
      r.key_error = "cannot open it: " + openssl_error("permission denied");
    } else {
      key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
      if (!key) {
        r.key_error = "no PEM private key in it (" + openssl_error("bad PEM") + ")";
      }
    }
  }
  r.key_loaded = key != nullptr;
  if (!cert) return r;
  r.loaded = true;

  const X509_NAME* subject = X509_get_subject_name(cert.get());
  const X509_NAME* issuer = X509_get_issuer_name(cert.get());
  r.subject = name_text(subject);
  r.issuer = name_text(issuer);
  if (key) r.key_matches = X509_check_private_key(cert.get(), key.get()) == 1;

  // Self-signed: issued by itself and verifiable with its own key (a name
  // match alone could be a CA reusing its name).
  EVP_PKEY* own = X509_get0_pubkey(cert.get());
  r.self_signed = X509_NAME_cmp(subject, issuer) == 0 && own && X509_verify(cert.get(), own) == 1;

  const ASN1_TIME* not_before = X509_get0_notBefore(cert.get());
  const ASN1_TIME* not_after = X509_get0_notAfter(cert.get());
  r.expired = X509_cmp_current_time(not_after) < 0;
  r.not_yet_valid = X509_cmp_current_time(not_before) > 0;
  std::tm tm{};
  if (ASN1_TIME_to_tm(not_after, &tm) == 1) {
    r.not_after = std::chrono::system_clock::from_time_t(timegm(&tm));
  }

  const int cn_index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (cn_index >= 0) {
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, cn_index));
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len > 0) r.names.emplace_back(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
  }
  NamesPtr sans(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
      if (gn->type != GEN_DNS) continue;
      const ASN1_STRING* s = gn->d.dNSName;
      std::string dns(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                      static_cast<std::size_t>(ASN1_STRING_length(s)));
      if (std::find(r.names.begin(), r.names.end(), dns) == r.names.end()) {
        r.names.push_back(std::move(dns));
      }
    }
  }
  ERR_clear_error();
  return r;
}

bool names_cover(const std::vector<std::string>& names, std::string_view host) {
  std::string h = ascii_lower(host);
  if (!h.empty() && h.back() == '.') h.pop_back();
  for (const auto& raw : names) {
    const std::string n = ascii_lower(raw);
    if (n == h) return true;
    if (n.size() > 2 && n[0] == '*' && n[1] == '.') {
      const auto dot = h.find('.');
      if (dot != std::string::npos && dot > 0 && h.substr(dot) == n.substr(1)) return true;
    }
  }
  return false;
}

}  // namespace postern::tls
