// The libunbound resolver against tests/tools/fake_dns.py on loopback.
#include "dns/resolver.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>

namespace postern::dns {
namespace {

constexpr const char* kZone = R"(
example.test      MX 10 mx1.example.test
example.test      MX 20 mx2.example.test
mx1.example.test  A 127.0.0.2
mx2.example.test  A 127.0.0.3
equal.test        MX 10 a.equal.test
equal.test        MX 10 b.equal.test
noMX.test         A 127.0.0.4
noMX.test         AAAA ::1
nullmx.test       MX 0 .
empty.test        TXT ignored
broken.test       SERVFAIL
)";

// Starts the fake DNS server once for all tests in this binary.
class FakeDnsServer : public ::testing::Environment {
 public:
  void SetUp() override {
    zone_ = "/tmp/postern-dns-zone-" + std::to_string(::getpid());
    std::ofstream(zone_) << kZone;
    const std::string cmd = "/usr/bin/python3 " POSTERN_SOURCE_DIR
                            "/tests/tools/fake_dns.py --zone " +
                            zone_ + " & echo $!";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    // First line: the pid (from echo); the server itself prints its port.
    char line[64] = {};
    ASSERT_NE(std::fgets(line, sizeof line, p), nullptr);
    pid_ = std::stoi(line);
    ASSERT_NE(std::fgets(line, sizeof line, p), nullptr) << "fake_dns.py did not start";
    port = std::stoi(line);
    pipe_ = p;
  }
  void TearDown() override {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
    if (pipe_) ::pclose(pipe_);
    std::remove(zone_.c_str());
  }
  static inline int port = 0;

 private:
  std::string zone_;
  int pid_ = 0;
  FILE* pipe_ = nullptr;
};

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new FakeDnsServer);

std::unique_ptr<Resolver> resolver() {
  ResolverOptions o;
  o.server = "127.0.0.1:" + std::to_string(FakeDnsServer::port);
  return Resolver::create(o);
}

TEST(Resolver, MxInPreferenceOrder) {
  auto r = resolver()->lookup_mx("example.test");
  ASSERT_EQ(r.status, Status::ok) << r.error;
  ASSERT_EQ(r.hosts.size(), 2u);
  EXPECT_EQ(r.hosts[0].host, "mx1.example.test");
  EXPECT_EQ(r.hosts[0].preference, 10);
  EXPECT_EQ(r.hosts[1].host, "mx2.example.test");
}

TEST(Resolver, EqualPreferencesInRandomOrder) {
  auto res = resolver();
  std::set<std::string> firsts;
  for (int i = 0; i < 40 && firsts.size() < 2; ++i) {
    auto r = res->lookup_mx("equal.test");
    ASSERT_EQ(r.status, Status::ok) << r.error;
    firsts.insert(r.hosts.at(0).host);
  }
  EXPECT_EQ(firsts.size(), 2u);
}

TEST(Resolver, ImplicitMxFromAddressRecords) {
  auto r = resolver()->lookup_mx("nomx.test");
  ASSERT_EQ(r.status, Status::ok) << r.error;
  ASSERT_EQ(r.hosts.size(), 1u);
  EXPECT_EQ(r.hosts[0].host, "nomx.test");
  auto a = resolver()->lookup_addresses("nomx.test");
  ASSERT_EQ(a.status, Status::ok);
  EXPECT_EQ(a.addresses, (std::vector<std::string>{"127.0.0.4", "::1"}));
}

TEST(Resolver, NullMxNxdomainNodataServfail) {
  auto res = resolver();
  EXPECT_EQ(res->lookup_mx("nullmx.test").status, Status::null_mx);
  EXPECT_EQ(res->lookup_mx("nowhere.test").status, Status::nxdomain);
  EXPECT_EQ(res->lookup_mx("empty.test").status, Status::no_data);
  EXPECT_EQ(res->lookup_mx("broken.test").status, Status::temporary_failure);
  EXPECT_EQ(res->lookup_addresses("nowhere.test").status, Status::nxdomain);
}

}  // namespace
}  // namespace postern::dns
