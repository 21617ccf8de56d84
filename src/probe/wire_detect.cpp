#include "probe/wire_detect.hpp"

namespace postern::probe {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

bool looks_like_tls_record(std::string_view bytes) {
  if (bytes.size() < 3) return false;
  const auto type = static_cast<unsigned char>(bytes[0]);
  return (type == 0x15 || type == 0x16) && bytes[1] == '\x03' &&
         static_cast<unsigned char>(bytes[2]) <= 0x04;
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

}  // namespace postern::probe
