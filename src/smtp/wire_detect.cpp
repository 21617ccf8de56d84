#include "smtp/wire_detect.hpp"

namespace postern::smtp {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_tls_version(unsigned char major, unsigned char minor) {
  return major == 0x03 && minor <= 0x04;
}

}  // namespace

bool looks_like_tls_client_hello(std::string_view bytes) {
  return bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0x16 &&
         is_tls_version(static_cast<unsigned char>(bytes[1]), static_cast<unsigned char>(bytes[2]));
}

bool looks_like_tls_record(std::string_view bytes) {
  if (bytes.size() < 3) return false;
  const auto type = static_cast<unsigned char>(bytes[0]);
  return (type == 0x15 || type == 0x16) &&
         is_tls_version(static_cast<unsigned char>(bytes[1]), static_cast<unsigned char>(bytes[2]));
}

FirstBytes tls_client_hello_start(std::string_view bytes) {
  if (bytes.size() >= 3)
    return looks_like_tls_client_hello(bytes) ? FirstBytes::tls : FirstBytes::other;
  if (bytes.empty()) return FirstBytes::need_more;
  if (static_cast<unsigned char>(bytes[0]) != 0x16) return FirstBytes::other;
  if (bytes.size() == 2 && static_cast<unsigned char>(bytes[1]) != 0x03) return FirstBytes::other;
  return FirstBytes::need_more;
}

bool looks_like_smtp_reply(std::string_view bytes) {
  if (bytes.size() < 4) return false;
  if (!is_digit(bytes[0]) || !is_digit(bytes[1]) || !is_digit(bytes[2])) return false;
  return bytes[3] == ' ' || bytes[3] == '-' || bytes[3] == '\r' || bytes[3] == '\n';
}

bool handshake_error_means_plaintext(std::string_view error) {
  // OpenSSL 3 texts for a first "record" that is ASCII: "220 " read as
  // version 0x3232 is "wrong version number"; some builds check the length
  // first ("packet length too long") or see an HTTP-looking peer.
  for (std::string_view marker : {"wrong version number", "packet length too long",
                                  "unknown protocol", "http request", "record layer failure"}) {
    if (error.find(marker) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace postern::smtp
