#include "dns_records/public_address.hpp"

#include <gtest/gtest.h>

namespace postern::dns_records {
namespace {

TEST(PublicAddress, OnlyAddressesOthersCanReach) {
  for (const char* yes : {"8.8.8.8", "93.184.216.34", "2a00:1450:4001::1b", "::ffff:8.8.4.4"}) {
    EXPECT_TRUE(is_public_address(yes)) << yes;
  }
  for (const char* no : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                         "100.64.0.1", "169.254.1.1", "0.0.0.0", "192.0.2.10", "::1", "::",
                         "fe80::1", "fd00::1", "2001:db8::1", "::ffff:10.0.0.1", "not-an-ip"}) {
    EXPECT_FALSE(is_public_address(no)) << no;
  }
  EXPECT_TRUE(is_public_address("172.32.0.1"));
}

}  // namespace
}  // namespace postern::dns_records
