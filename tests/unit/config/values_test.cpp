// Small value parsers: durations, host:port, networks, typo suggestions.
#include <gtest/gtest.h>

#include <array>

#include "config/config.hpp"
#include "config/duration.hpp"
#include "config/host_port.hpp"
#include "config/suggest.hpp"

namespace postern::config {
namespace {

using std::chrono::seconds;

TEST(Duration, SuffixesAndPlainSeconds) {
  EXPECT_EQ(parse_duration("300s"), seconds(300));
  EXPECT_EQ(parse_duration("5m"), seconds(300));
  EXPECT_EQ(parse_duration("2h"), seconds(7200));
  EXPECT_EQ(parse_duration("1h30m"), seconds(5400));
  EXPECT_EQ(parse_duration("45"), seconds(45));
  EXPECT_EQ(parse_duration("0s"), seconds(0));
}

TEST(Duration, RejectsGarbage) {
  for (const char* bad :
       {"", "s", "5x", "5 m", "-5s", "1h30", "5.5m", "m5", "99999999999999999s"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

TEST(HostPort, V4V6AndNames) {
  std::string why;
  auto a = parse_host_port("0.0.0.0:25", why);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 25);
  auto b = parse_host_port("[::1]:587", why);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 587);
  auto c = parse_host_port("smtp.example.com:65535", why);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->port, 65535);
}

TEST(HostPort, RejectsBadPortsAndShapes) {
  std::string why;
  for (const char* bad : {"0.0.0.0", "0.0.0.0:0", "0.0.0.0:65536", "0.0.0.0:", ":25", "::1:25",
                          "[::1]25", "[::1:25", "host:2x5", "0.0.0.0:-1"}) {
    EXPECT_FALSE(parse_host_port(bad, why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(HostPort, IpLiteralsAndCanonicalForm) {
  bool v6 = false;
  EXPECT_TRUE(is_ip_literal("127.0.0.1", &v6));
  EXPECT_FALSE(v6);
  EXPECT_TRUE(is_ip_literal("::", &v6));
  EXPECT_TRUE(v6);
  EXPECT_FALSE(is_ip_literal("localhost"));
  EXPECT_EQ(canonical_ip("0:0::0"), "::");
  EXPECT_EQ(canonical_ip("::ffff:7f00:1"), canonical_ip("::ffff:127.0.0.1"));
}

TEST(Network, ContainsV4) {
  auto n = parse_network("192.168.1.0/24");
  ASSERT_TRUE(n);
  EXPECT_FALSE(n->v6);
  EXPECT_EQ(n->prefix, 24);
  EXPECT_TRUE(n->contains("192.168.1.0"));
  EXPECT_TRUE(n->contains("192.168.1.255"));
  EXPECT_FALSE(n->contains("192.168.2.1"));
  EXPECT_FALSE(n->contains("::1"));
  EXPECT_FALSE(n->contains("not an ip"));
}

TEST(Network, OddPrefixesAndHostBits) {
  auto n = parse_network("10.1.2.3/13");  // host bits are dropped
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->contains("10.0.0.1"));
  EXPECT_TRUE(n->contains("10.7.255.255"));
  EXPECT_FALSE(n->contains("10.8.0.0"));
  auto all = parse_network("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains("203.0.113.9"));
}

TEST(Network, BareAddressIsOneHost) {
  auto n = parse_network("127.0.0.1");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->prefix, 32);
  EXPECT_TRUE(n->contains("127.0.0.1"));
  EXPECT_FALSE(n->contains("127.0.0.2"));
  auto v6 = parse_network("::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->prefix, 128);
}

TEST(Network, ContainsV6) {
  auto n = parse_network("fd00:1234::/32");
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->v6);
  EXPECT_TRUE(n->contains("fd00:1234::9"));
  EXPECT_TRUE(n->contains("[fd00:1234:ffff::1]"));
  EXPECT_TRUE(n->contains("fd00:1234::1%eth0"));
  EXPECT_FALSE(n->contains("fd00:1235::1"));
  EXPECT_FALSE(n->contains("10.0.0.1"));
}

TEST(Network, V4MappedClientMatchesV4Network) {
  auto n = parse_network("127.0.0.0/8");
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->contains("::ffff:127.0.0.1"));
  EXPECT_TRUE(n->contains("::FFFF:127.9.9.9"));
  EXPECT_FALSE(n->contains("::ffff:128.0.0.1"));
  // Not mapped: ::127.0.0.1 is an IPv4-compatible (deprecated) address.
  EXPECT_FALSE(n->contains("::127.0.0.1"));
  auto mapped = parse_network("::ffff:0:0/96");
  ASSERT_TRUE(mapped);
  EXPECT_TRUE(mapped->contains("198.51.100.7"));
}

TEST(Network, RejectsGarbage) {
  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0/8",
                          "example.com/24", "10.0.0.0/8x", "[::1]/128"}) {
    EXPECT_FALSE(parse_network(bad)) << bad;
  }
}

TEST(Suggest, NearestKey) {
  constexpr std::array<std::string_view, 4> keys = {"hostname", "data_dir", "local_domains",
                                                    "relay_networks"};
  EXPECT_EQ(nearest("hostnmae", keys), "hostname");
  EXPECT_EQ(nearest("datadir", keys), "data_dir");
  EXPECT_EQ(nearest("local_domain", keys), "local_domains");
  EXPECT_EQ(nearest("mynetworks", keys), "");
  EXPECT_EQ(edit_distance("abc", "acb"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

}  // namespace
}  // namespace postern::config
