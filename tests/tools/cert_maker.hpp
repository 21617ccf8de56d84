// Test certificates made with OpenSSL at run time (no keys in the
// repository): self-signed or signed by a throw-away CA, with any validity
// window.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace postern::testing {

struct CertSpec {
  std::string common_name = "mail.example.com";
  std::vector<std::string> dns_names = {"mail.example.com"};
  bool self_signed = false;                // otherwise signed by a fresh CA
  std::chrono::seconds not_before{-3600};  // relative to now
  std::chrono::seconds not_after{std::chrono::hours(24 * 90)};
};

// Writes the certificate (PEM; leaf then CA for CA-signed ones, like a
// fullchain.pem) and its key. Aborts the test binary on OpenSSL failure.
void make_certificate(const std::filesystem::path& cert_path, const std::filesystem::path& key_path,
                      const CertSpec& spec);

}  // namespace postern::testing
