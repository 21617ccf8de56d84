#include "smtp/capabilities.hpp"

#include <fmt/format.h>

namespace postern::smtp {

bool starttls_offered(const SessionSettings& settings, bool tls_active) {
  return (settings.tls == TlsMode::starttls || settings.tls == TlsMode::starttls_required) &&
         !tls_active && settings.tls_available;
}

bool auth_offered(const SessionSettings& settings, bool tls_active) {
  if (settings.role != Role::submission) return false;
  if (tls_active) return true;
  return settings.insecure_auth && settings.tls != TlsMode::starttls_required;
}

std::vector<std::string> ehlo_lines(const SessionSettings& settings, bool tls_active) {
  std::vector<std::string> lines = {
      settings.hostname,
      "PIPELINING",                                              // RFC 2920
      fmt::format("SIZE {}", settings.limits.max_message_size),  // RFC 1870
      "8BITMIME",                                                // RFC 6152
      "ENHANCEDSTATUSCODES",                                     // RFC 2034
      "SMTPUTF8",                                                // RFC 6531
      "CHUNKING",                                                // RFC 3030
      "DSN",                                                     // RFC 3461
  };
  if (starttls_offered(settings, tls_active)) lines.emplace_back("STARTTLS");
  if (auth_offered(settings, tls_active)) lines.emplace_back("AUTH PLAIN LOGIN");
  return lines;
}

}  // namespace postern::smtp
