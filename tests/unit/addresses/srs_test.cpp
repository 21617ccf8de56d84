// SRS0 (src/addresses/srs.hpp): round trip, tampering, expiry, rotation.
#include "addresses/srs.hpp"

#include <gtest/gtest.h>

namespace postern::addresses {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

SrsKey key() {
  SrsKey k;
  k.secrets = {"s3cret"};
  k.domain = "Fwd.Example.com";
  return k;
}

std::string local_of(const std::string& a) {
  return a.substr(0, a.rfind('@'));
}

TEST(Srs, RoundTrip) {
  const auto now = Clock::now();
  const auto fwd = srs_forward(key(), "Jo.Smith=x@Origin.Example", now);
  ASSERT_TRUE(fwd);
  EXPECT_TRUE(fwd->starts_with("SRS0="));
  EXPECT_TRUE(fwd->ends_with("=origin.example=Jo.Smith=x@fwd.example.com")) << *fwd;
  const SrsDecoded d = srs_reverse(key(), local_of(*fwd), now + 20 * 24h);
  EXPECT_EQ(d.status, SrsStatus::ok);
  EXPECT_EQ(d.original, "Jo.Smith=x@origin.example");
  // Some MTAs lowercase what they send back; the hash survives it.
  std::string lower = local_of(*fwd);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(srs_reverse(key(), lower, now).status, SrsStatus::ok);
}

TEST(Srs, RefusesTamperedExpiredAndMalformed) {
  const auto now = Clock::now();
  const std::string l = local_of(*srs_forward(key(), "alice@origin.example", now));
  std::string other_user = l.substr(0, l.rfind('=')) + "=mallory";
  EXPECT_EQ(srs_reverse(key(), other_user, now).status, SrsStatus::bad_hash);
  std::string other_hash = l;
  other_hash[5] = other_hash[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(srs_reverse(key(), other_hash, now).status, SrsStatus::bad_hash);
  SrsKey other = key();
  other.secrets = {"another"};
  EXPECT_EQ(srs_reverse(other, l, now).status, SrsStatus::bad_hash);
  EXPECT_EQ(srs_reverse(key(), l, now + 22 * 24h).status, SrsStatus::expired);
  EXPECT_EQ(srs_reverse(key(), l, now - 2 * 24h).status, SrsStatus::expired);  // from the future
  EXPECT_EQ(srs_reverse(key(), "SRS0=abcd=AA=origin.example", now).status, SrsStatus::malformed);
  EXPECT_EQ(srs_reverse(key(), "SRS0=abc=AA=origin.example=x", now).status, SrsStatus::malformed);
  EXPECT_EQ(srs_reverse(key(), "alice", now).status, SrsStatus::not_srs);
}

TEST(Srs, RotationKeepsOldAddressesValid) {
  const auto now = Clock::now();
  const std::string l = local_of(*srs_forward(key(), "alice@origin.example", now));
  SrsKey rotated = key();
  rotated.secrets = {"new secret", "s3cret"};
  EXPECT_EQ(srs_reverse(rotated, l, now).status, SrsStatus::ok);
}

TEST(Srs, OurOwnSrsAddressIsNotWrappedAgain) {
  const auto now = Clock::now();
  const auto once = srs_forward(key(), "alice@origin.example", now);
  EXPECT_EQ(srs_forward(key(), *once, now), once);
  EXPECT_FALSE(srs_forward(SrsKey{}, "alice@origin.example", now));
}

}  // namespace
}  // namespace postern::addresses
