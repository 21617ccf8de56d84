#include "sasl/sasl.hpp"

#include <gtest/gtest.h>

namespace postern::sasl {
namespace {

TEST(Base64, RoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 40; ++i) {
    auto enc = base64_encode(data);
    auto dec = base64_decode(enc);
    ASSERT_TRUE(dec) << enc;
    EXPECT_EQ(*dec, data);
    data += static_cast<char>(i * 37);
  }
}

TEST(Base64, KnownVectors) {
  EXPECT_EQ(base64_encode("Username:"), "VXNlcm5hbWU6");
  EXPECT_EQ(base64_encode("Password:"), "UGFzc3dvcmQ6");
  EXPECT_EQ(*base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(*base64_decode(""), "");
}

TEST(Base64, RejectsMalformed) {
  EXPECT_FALSE(base64_decode("Zm9"));       // not a multiple of four
  EXPECT_FALSE(base64_decode("Zm9v!A=="));  // outside the alphabet
  EXPECT_FALSE(base64_decode("Z=9v"));      // padding in the middle
  EXPECT_FALSE(base64_decode("Zm==Zm9v"));  // data after padding
  EXPECT_FALSE(base64_decode("Zm9vYmF="));  // non-canonical trailing bits
  EXPECT_FALSE(base64_decode("Zm9v\r\n"));
}

TEST(Plain, DecodesThreeFields) {
  auto c = decode_plain(base64_encode(std::string("\0alice@example.com\0secret", 25)));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->authzid, "");
  EXPECT_EQ(c->authcid, "alice@example.com");
  EXPECT_EQ(c->password, "secret");
  auto z = decode_plain(base64_encode(std::string("a\0b\0c", 5)));
  ASSERT_TRUE(z);
  EXPECT_EQ(z->authzid, "a");
}

TEST(Plain, RejectsMissingOrExtraSeparators) {
  EXPECT_FALSE(decode_plain(base64_encode("alice secret")));
  EXPECT_FALSE(decode_plain(base64_encode(std::string("\0alice", 6))));
  EXPECT_FALSE(decode_plain(base64_encode(std::string("\0\0secret", 8))));
  EXPECT_FALSE(decode_plain(base64_encode(std::string("\0alice\0", 7))));
  EXPECT_FALSE(decode_plain(base64_encode(std::string("\0a\0b\0c", 7))));
  EXPECT_FALSE(decode_plain("not base64!"));
}

}  // namespace
}  // namespace postern::sasl
