// What the first bytes on a connection say, shared by the server (implicit
// TLS sent to a STARTTLS port, STYLE.md habit 14) and `postern probe` (the
// wrong-TLS-mode diagnosis).
#include "smtp/wire_detect.hpp"

#include <gtest/gtest.h>

namespace postern::smtp {
namespace {

TEST(WireDetect, TlsRecords) {
  EXPECT_TRUE(looks_like_tls_record(std::string("\x16\x03\x03\x00\x7a", 5)));  // ServerHello
  EXPECT_TRUE(looks_like_tls_record(std::string("\x15\x03\x01\x00\x02", 5)));  // alert
  EXPECT_FALSE(looks_like_tls_record("220 mx ESMTP"));
  EXPECT_FALSE(looks_like_tls_record(std::string("\x16\x03", 2)));
  EXPECT_FALSE(looks_like_tls_record(std::string("\x17\x03\x03", 3)));  // application data first
}

TEST(WireDetect, SmtpReplies) {
  EXPECT_TRUE(looks_like_smtp_reply("220 mx.example.test ESMTP"));
  EXPECT_TRUE(looks_like_smtp_reply("220-first line"));
  EXPECT_TRUE(looks_like_smtp_reply("220\r\n"));
  EXPECT_FALSE(looks_like_smtp_reply("22"));
  EXPECT_FALSE(looks_like_smtp_reply("HTTP/1.1 400"));
  EXPECT_FALSE(looks_like_smtp_reply(std::string("\x16\x03\x03\x00", 4)));
}

TEST(WireDetect, HandshakeErrorsThatMeanPlaintext) {
  EXPECT_TRUE(handshake_error_means_plaintext("error:0A00010B:SSL routines::wrong version number"));
  EXPECT_TRUE(
      handshake_error_means_plaintext("error:0A0000C6:SSL routines::packet length too long"));
  EXPECT_FALSE(handshake_error_means_plaintext("connection closed during handshake"));
  EXPECT_FALSE(handshake_error_means_plaintext("handshake timed out"));
  EXPECT_FALSE(handshake_error_means_plaintext(
      "error:0A000410:SSL routines::sslv3 alert handshake failure"));
}

TEST(WireDetect, ClientHelloOnly) {
  EXPECT_TRUE(looks_like_tls_client_hello(std::string("\x16\x03\x01\x02\x00", 5)));
  EXPECT_TRUE(looks_like_tls_client_hello(std::string("\x16\x03\x00", 3)));
  EXPECT_TRUE(looks_like_tls_client_hello(std::string("\x16\x03\x04", 3)));
  EXPECT_FALSE(looks_like_tls_client_hello(std::string("\x16\x03\x05", 3)));
  EXPECT_FALSE(looks_like_tls_client_hello(std::string("\x15\x03\x01", 3)));  // an alert
  EXPECT_FALSE(looks_like_tls_client_hello(std::string("\x16\x02\x01", 3)));
  EXPECT_FALSE(looks_like_tls_client_hello("EHLO x\r\n"));
  EXPECT_FALSE(looks_like_tls_client_hello(""));
}

TEST(WireDetect, FirstBytesWaitOnlyWhileATlsHeaderIsPossible) {
  EXPECT_EQ(tls_client_hello_start(""), FirstBytes::need_more);
  EXPECT_EQ(tls_client_hello_start(std::string("\x16", 1)), FirstBytes::need_more);
  EXPECT_EQ(tls_client_hello_start(std::string("\x16\x03", 2)), FirstBytes::need_more);
  EXPECT_EQ(tls_client_hello_start(std::string("\x16\x03\x03", 3)), FirstBytes::tls);
  EXPECT_EQ(tls_client_hello_start(std::string("\x16\x04", 2)), FirstBytes::other);
  EXPECT_EQ(tls_client_hello_start("E"), FirstBytes::other);
  EXPECT_EQ(tls_client_hello_start("EHLO x\r\n"), FirstBytes::other);
}

}  // namespace
}  // namespace postern::smtp
