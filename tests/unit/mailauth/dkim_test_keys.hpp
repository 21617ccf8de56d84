// Keys and messages shared by the DKIM unit tests.
#pragma once

#include <string>
#include <string_view>

#include "mailauth/dkim/base64.hpp"

namespace postern::mailauth::dkim::test {

// The Ed25519 key of RFC 8032 §7.1 test 1, used by RFC 8463 Appendix A
// (selector "brisbane"): the private key as PKCS#8 PEM built around the
// 32-octet seed nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=.
inline std::string rfc8032_private_pem() {
  const std::string prefix("\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20", 16);
  const std::string seed = *base64_decode("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=");
  return "-----BEGIN PRIVATE KEY-----\n" + base64_encode(prefix + seed) +
         "\n-----END PRIVATE KEY-----\n";
}
inline constexpr std::string_view rfc8032_public = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

// The RSA key of RFC 6376 Appendix C / RFC 8463 Appendix A (selector "test").
inline constexpr std::string_view rfc_rsa_record =
    "v=DKIM1; k=rsa; "
    "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/"
    "J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2"
    "EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

// Lines joined with CRLF.
inline std::string crlf(std::initializer_list<std::string_view> lines) {
  std::string out;
  for (std::string_view l : lines) {
    out.append(l);
    out.append("\r\n");
  }
  return out;
}

}  // namespace postern::mailauth::dkim::test
