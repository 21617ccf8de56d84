// Certificate work that is not about a live connection: generating the
// embedded default's self-signed certificate and inspecting certificates for
// `postern check`.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace postern::tls {

// Creates a self-signed certificate (EC P-256, SAN = hostname, localhost,
// 127.0.0.1, ::1, valid 825 days) and its key, written durably with the key
// mode 0600. Returns an error text on failure, empty on success.
std::string generate_self_signed(const std::filesystem::path& cert_path,
                                 const std::filesystem::path& key_path,
                                 const std::string& hostname);

struct CertificateReport {
  bool loaded = false;
  std::string load_error;  // why it could not be read
  bool key_loaded = false;
  std::string key_error;
  bool key_matches = false;
  bool self_signed = false;
  bool expired = false;
  bool not_yet_valid = false;
  std::chrono::system_clock::time_point not_after{};
  std::vector<std::string> names;  // subject CN and DNS SANs
  std::string subject;
  std::string issuer;
};

// Loads the first certificate of `cert_path` (a PEM chain file is fine) and
// the private key, and says what is wrong with them. Never throws.
CertificateReport inspect(const std::filesystem::path& cert_path,
                          const std::filesystem::path& key_path);

// Whether a certificate with these names (CN and DNS SANs) is valid for
// `host`, with RFC 6125 §6.4.3 wildcards: "*.example.com" covers exactly one
// label ("mail.example.com", not "example.com" or "a.b.example.com").
bool names_cover(const std::vector<std::string>& names, std::string_view host);

}  // namespace postern::tls
