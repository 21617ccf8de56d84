#include "probe/certificate_check.hpp"

#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "config/host_port.hpp"
#include "tls/certificate.hpp"

namespace postern::probe {
namespace {

std::string name_text(const X509_NAME* name) {
  if (!name) return "";
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return "";
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out = n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
  BIO_free(bio);
  return out;
}

std::string iso_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
  const unsigned char* d = ASN1_STRING_get0_data(ip);
  const int n = ASN1_STRING_length(ip);
  char buf[64];
  if (n == 4) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", d[0], d[1], d[2], d[3]);
    return buf;
  }
  if (n == 16) {
    std::string out;
    for (int i = 0; i < 16; i += 2) {
      std::snprintf(buf, sizeof buf, "%x", (d[i] << 8) | d[i + 1]);
      if (i) out += ':';
      out += buf;
    }
    return config::canonical_ip(out);
  }
  return "";
}

// DNS and IP subjectAltNames; the subject CN only when there is no DNS
// SAN (RFC 6125 §6.4.4).
std::vector<std::string> names_of(X509* cert, bool& has_dns_san) {
  std::vector<std::string> names;
  has_dns_san = false;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
      if (g->type == GEN_DNS) {
        const unsigned char* d = ASN1_STRING_get0_data(g->d.dNSName);
        names.emplace_back(reinterpret_cast<const char*>(d),
                           static_cast<std::size_t>(ASN1_STRING_length(g->d.dNSName)));
        has_dns_san = true;
      } else if (g->type == GEN_IPADD) {
        const std::string ip = ip_text(g->d.iPAddress);
        if (!ip.empty()) names.push_back(ip);
      }
    }
    GENERAL_NAMES_free(sans);
  }
  if (!has_dns_san) {
    const X509_NAME* subject = X509_get_subject_name(cert);
    const int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (idx >= 0) {
      const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
      const unsigned char* d = ASN1_STRING_get0_data(cn);
      names.insert(names.begin(), std::string(reinterpret_cast<const char*>(d),
                                              static_cast<std::size_t>(ASN1_STRING_length(cn))));
    }
  }
  return names;
}

bool is_name_error(int e) {
  return e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH;
}

}  // namespace

CertificateCollector::~CertificateCollector() {
  reset();
}

void CertificateCollector::install(SSL_CTX* context) {
  SSL_CTX_set_ex_data(context, 0, this);
  // Peer verification on, but the callback accepts: the walk reports what
  // is wrong instead of failing the handshake with a terse alert.
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, &CertificateCollector::verify_callback);
}

void CertificateCollector::reset() {
  if (leaf_) X509_free(leaf_);
  leaf_ = nullptr;
  errors_.clear();
}

int CertificateCollector::verify_callback(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (!ssl) return 1;
  auto* self = static_cast<CertificateCollector*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), 0));
  if (!self) return 1;
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (leaf && !self->leaf_ && X509_up_ref(leaf) == 1) self->leaf_ = leaf;
  if (!preverify_ok) {
    const int e = X509_STORE_CTX_get_error(store);
    if (std::find(self->errors_.begin(), self->errors_.end(), e) == self->errors_.end()) {
      self->errors_.push_back(e);
    }
  }
  return 1;
}

CertificateInfo CertificateCollector::info(const std::string& host) const {
  CertificateInfo out;
  if (!leaf_) return out;
  out.present = true;
  out.subject = name_text(X509_get_subject_name(leaf_));
  out.issuer = name_text(X509_get_issuer_name(leaf_));
  out.not_before = iso_time(X509_get0_notBefore(leaf_));
  out.not_after = iso_time(X509_get0_notAfter(leaf_));
  out.expired = X509_cmp_current_time(X509_get0_notAfter(leaf_)) < 0;
  out.not_yet_valid = X509_cmp_current_time(X509_get0_notBefore(leaf_)) > 0;
  out.self_signed = X509_self_signed(leaf_, 0) == 1;
  bool has_dns_san = false;
  out.names = names_of(leaf_, has_dns_san);
  if (config::is_ip_literal(host)) {
    out.name_matches = X509_check_ip_asc(leaf_, host.c_str(), 0) == 1;
  } else {
    out.name_matches = tls::names_cover(out.names, host);
  }
  out.trusted = true;
  for (int e : errors_) {
    if (is_name_error(e)) continue;
    out.trusted = false;
    if (out.verify_error.empty()) out.verify_error = X509_verify_cert_error_string(e);
  }
  return out;
}

Diagnosis certificate_problem(const CertificateInfo& info) {
  if (!info.present) return Diagnosis::certificate_untrusted;
  if (info.expired) return Diagnosis::certificate_expired;
  if (info.not_yet_valid) return Diagnosis::certificate_not_yet_valid;
  // A self-signed certificate the user trusts on purpose (--ca-file naming
  // it) is fine; otherwise no other name would help.
  if (info.self_signed && !info.trusted) return Diagnosis::certificate_self_signed;
  if (!info.name_matches) return Diagnosis::certificate_name_mismatch;
  if (!info.trusted) return Diagnosis::certificate_untrusted;
  return Diagnosis::ok;
}

}  // namespace postern::probe
