// Certificate lints: a TLS listener with a missing, unreadable, mismatched,
// expired or untrusted certificate either fails to start or fails every
// client that verifies.
#include <algorithm>
#include <chrono>

#include "config/generated_certificate.hpp"
#include "config/lint_rules.hpp"
#include "tls/certificate.hpp"

namespace postern::config {
namespace {

namespace fs = std::filesystem;

// Let's Encrypt renews 30 days ahead; two weeks left means renewal has failed.
constexpr std::chrono::hours kExpiryWarning{24 * 14};

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "no names" : out;
}

std::string date_of(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace

void lint_certificate(const Config& config, std::vector<Problem>& out) {
  std::vector<std::string> users;
  for (const auto& l : config.listeners) {
    if (l.tls != TlsMode::none) users.push_back(l.address);
  }
  if (users.empty()) return;
  const std::string needed_by = " (TLS listeners: " + join(users) + ")";
  const fs::path& cert = config.tls.cert;
  const fs::path& key = config.tls.key;
  const std::string cert_where = config.where("tls.cert");
  const std::string key_where = config.where("tls.key");

  if (certificate_generated_on_start(config)) {
    // `postern serve` generates both on the first start (the embedded
    // default, and a file saved from `postern check --print-default`).
    if (!config.embedded) {
      out.push_back(warning_at(
          cert_where,
          "certificate " + cert.string() + " and key " + key.string() +
              " do not exist yet; `postern serve` will generate a self-signed pair on the first "
              "start, which clients that verify certificates refuse",
          "for real use get a certificate for " + config.hostname +
              " (e.g. `certbot certonly --standalone -d " + config.hostname +
              "`) and point [tls] cert and key at its fullchain.pem and privkey.pem"));
    }
    return;
  }

  const tls::CertificateReport r = tls::inspect(cert, key);
  const std::string obtain =
      "point [tls] cert at your certificate chain in PEM (e.g. "
      "/etc/letsencrypt/live/" +
      config.hostname + "/fullchain.pem), or get one with certbot / acme.sh";
  if (!r.loaded) {
    out.push_back(error_at(
        cert_where, "certificate " + cert.string() + " cannot be used: " + r.load_error + needed_by,
        obtain));
  }
  if (!r.key_loaded) {
    out.push_back(error_at(
        key_where, "private key " + key.string() + " cannot be used: " + r.key_error + needed_by,
        "point [tls] key at the PEM private key of the certificate (e.g. "
        "privkey.pem next to fullchain.pem)"));
  }
  if (!r.loaded) return;
  if (r.key_loaded && !r.key_matches) {
    out.push_back(error_at(
        key_where, "private key " + key.string() + " does not match certificate " + cert.string(),
        "use the key that was generated with this certificate (certbot: "
        "privkey.pem from the same live/ directory)"));
  }
  if (r.expired) {
    out.push_back(error_at(cert_where,
                           "certificate " + cert.string() + " expired on " + date_of(r.not_after) +
                               "; clients that verify will refuse every connection",
                           "renew it (certbot renew) and run `postern check` again"));
  } else if (r.not_yet_valid) {
    out.push_back(error_at(cert_where, "certificate " + cert.string() + " is not valid yet",
                           "check the system clock, or wait until the certificate's start "
                           "date"));
  } else if (r.not_after - std::chrono::system_clock::now() < kExpiryWarning) {
    out.push_back(warning_at(cert_where,
                             "certificate " + cert.string() + " expires on " +
                                 date_of(r.not_after) + ", in less than 14 days",
                             "renew it now (certbot renew) and send SIGHUP to postern"));
  }
  if (r.self_signed) {
    if (config.embedded) {
      out.push_back(warning_at(cert_where,
                               "certificate " + cert.string() +
                                   " is the embedded default's self-signed certificate; clients "
                                   "that verify certificates will refuse it",
                               "fine for testing; for real use write a configuration with a "
                               "certificate from a CA (`postern check --print-default` is a "
                               "starting point)"));
    } else {
      out.push_back(warning_at(cert_where,
                               "certificate " + cert.string() +
                                   " is self-signed; mail clients and servers that verify "
                                   "certificates will refuse it",
                               obtain));
    }
  }
  if (!(config.embedded && config.hostname == "localhost") &&
      !tls::names_cover(r.names, config.hostname)) {
    out.push_back(warning_at(cert_where,
                             "certificate " + cert.string() + " does not cover hostname \"" +
                                 config.hostname + "\" (it covers: " + join(r.names) + ")",
                             "get a certificate for " + config.hostname +
                                 ", or set hostname to a name the certificate covers"));
  }
}

}  // namespace postern::config
