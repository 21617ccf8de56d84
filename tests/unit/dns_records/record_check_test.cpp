// `postern dns --check` on tables of DNS answers: a correct domain is all
// ok, and each seeded mistake is named by its code.
#include "dns_records/record_check.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "unit/mailauth/spf_zone.hpp"

namespace postern::dns_records {
namespace {

using mailauth::RrType;
using mailauth::test::Zone;

const char* const kKey = "MCowBQYDK2VwAyEAq5mYc1Fx0Lhd0u7sH3Wq1bIu2qK8u0C9bM1n0x6bK0A=";

ServerIdentity server() {
  ServerIdentity s;
  s.domain = "example.com";
  s.hostname = "mail.example.com";
  s.addresses = {"192.0.2.10"};
  s.dkim = {{"sel", std::string("v=DKIM1; k=ed25519; p=") + kKey, "/etc/postern/dkim/sel.pem"}};
  return s;
}

// Everything right; each test breaks one thing.
Zone good_zone() {
  Zone z;
  z.add("example.com", RrType::mx, {"mail.example.com"})
      .a("mail.example.com", "192.0.2.10")
      .txt("example.com", "v=spf1 mx -all")
      .txt("sel._domainkey.example.com", std::string("v=DKIM1; k=ed25519; p=") + kKey)
      .txt("_dmarc.example.com", "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com")
      .add("10.2.0.192.in-addr.arpa", RrType::ptr, {"mail.example.com"});
  return z;
}

std::vector<Finding> check(Zone& zone, const ServerIdentity& s = server()) {
  return check_records(s, [&zone](const mailauth::Question& q) { return zone(q); });
}

std::vector<std::string> failures(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) {
    if (f.status == Status::fail) out.push_back(f.code);
  }
  return out;
}

std::string dump(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings)
    out += std::string(status_name(f.status)) + " " + f.code + ": " + f.message + "\n";
  return out;
}

TEST(RecordCheck, CorrectDomainHasNoFailure) {
  Zone z = good_zone();
  const auto findings = check(z);
  EXPECT_TRUE(failures(findings).empty()) << dump(findings);
  EXPECT_EQ(findings.size(), 6u) << dump(findings);  // MX, A, SPF, DKIM, DMARC, PTR
}

struct Mistake {
  const char* expected_code;
  std::function<void(Zone&)> seed;  // applied to a fresh zone built from scratch
  std::function<void(ServerIdentity&)> tweak = nullptr;
};

// Builds the good zone except for what `skip` names, then lets the case add
// its own version.
Zone zone_without(const std::string& skip) {
  Zone z;
  if (skip != "mx") z.add("example.com", RrType::mx, {"mail.example.com"});
  if (skip != "a") z.a("mail.example.com", "192.0.2.10");
  if (skip != "spf") z.txt("example.com", "v=spf1 mx -all");
  if (skip != "dkim") {
    z.txt("sel._domainkey.example.com", std::string("v=DKIM1; k=ed25519; p=") + kKey);
  }
  if (skip != "dmarc") {
    z.txt("_dmarc.example.com", "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com");
  }
  if (skip != "ptr") z.add("10.2.0.192.in-addr.arpa", RrType::ptr, {"mail.example.com"});
  return z;
}

TEST(RecordCheck, EachSeededMistakeIsNamed) {
  const std::string key(kKey);
  const std::vector<std::pair<std::string, std::pair<std::string, std::function<void(Zone&)>>>>
      cases = {
          {"spf_missing",
           {"spf", [](Zone& z) { z.txt("example.com", "google-site-verification=x"); }}},
          {"spf_multiple",
           {"spf",
            [](Zone& z) {
              z.txt("example.com", "v=spf1 mx -all").txt("example.com", "v=spf1 a -all");
            }}},
          {"spf_too_many_lookups",
           {"spf",
            [](Zone& z) {
              std::string record = "v=spf1 mx";
              for (int i = 0; i < 10; ++i) {
                const std::string name = "i" + std::to_string(i) + ".example.net";
                record += " include:" + name;
                z.txt(name, "v=spf1 ip4:198.51.100." + std::to_string(i) + " -all");
              }
              z.txt("example.com", record + " -all");
            }}},
          {"spf_allows_everyone", {"spf", [](Zone& z) { z.txt("example.com", "v=spf1 mx +all"); }}},
          {"spf_allows_everyone",
           {"spf", [](Zone& z) { z.txt("example.com", "v=spf1 ip4:0.0.0.0/0 -all"); }}},
          {"spf_allows_everyone",
           {"spf", [](Zone& z) { z.txt("example.com", "v=spf1 mx ip6:::/0 -all"); }}},
          {"spf_not_covering",
           {"spf", [](Zone& z) { z.txt("example.com", "v=spf1 ip4:198.51.100.1 ~all"); }}},
          {"spf_not_covering",
           {"spf",
            [](Zone& z) {
              z.txt("example.com", "v=spf1 include:_spf.provider.example -all")
                  .txt("_spf.provider.example", "v=spf1 ip4:198.51.100.0/24 -all");
            }}},
          {"spf_invalid",
           {"spf", [](Zone& z) { z.txt("example.com", "v=spf1 mx ip4:1.2.3 -all"); }}},
          {"dkim_missing", {"dkim", [](Zone&) {}}},
          {"dkim_split_wrongly",
           {"dkim",
            [key](Zone& z) {
              z.txt("sel._domainkey.example.com", "v=DKIM1; k=ed25519; p=" + key.substr(0, 20))
                  .txt("sel._domainkey.example.com", key.substr(20));
            }}},
          {"dkim_split_wrongly",
           {"dkim",
            [key](Zone& z) {
              z.txt("sel._domainkey.example.com",
                    "v=DKIM1; k=ed25519; p=" + key.substr(0, 20) + "\" \"" + key.substr(20));
            }}},
          {"dkim_truncated",
           {"dkim",
            [key](Zone& z) {
              z.txt("sel._domainkey.example.com", "v=DKIM1; k=ed25519; p=" + key.substr(0, 30));
            }}},
          {"dkim_key_mismatch",
           {"dkim",
            [](Zone& z) {
              z.txt("sel._domainkey.example.com",
                    "v=DKIM1; k=ed25519; "
                    "p=MCowBQYDK2VwAyEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
            }}},
          {"dkim_invalid",
           {"dkim", [](Zone& z) { z.txt("sel._domainkey.example.com", "v=DKIM1; k=ed25519"); }}},
          {"dmarc_missing", {"dmarc", [](Zone&) {}}},
          {"dmarc_invalid",
           {"dmarc", [](Zone& z) { z.txt("_dmarc.example.com", "v=DMARC1; p=block"); }}},
          {"dmarc_invalid",
           {"dmarc", [](Zone& z) { z.txt("_dmarc.example.com", "p=reject; v=DMARC1"); }}},
          {"dmarc_invalid",
           {"dmarc",
            [](Zone& z) { z.txt("_dmarc.example.com", "v=DMARC1; rua=mailto:a@example.com"); }}},
          {"dmarc_invalid",
           {"dmarc",
            [](Zone& z) {
              z.txt("_dmarc.example.com", "v=DMARC1; p=none")
                  .txt("_dmarc.example.com", "v=DMARC1; p=reject");
            }}},
          {"ptr_missing", {"ptr", [](Zone&) {}}},
          {"ptr_mismatch",
           {"ptr",
            [](Zone& z) {
              z.add("10.2.0.192.in-addr.arpa", RrType::ptr, {"host-10.cloud.example.net"});
            }}},
          {"ptr_not_confirmed", {"a", [](Zone& z) { z.a("mail.example.com", "192.0.2.99"); }}},
          {"mx_elsewhere",
           {"mx", [](Zone& z) { z.add("example.com", RrType::mx, {"mx.other.example.net"}); }}},
          {"mx_missing", {"mx", [](Zone&) {}}},
      };
  for (const auto& [code, seed] : cases) {
    Zone z = zone_without(seed.first);
    seed.second(z);
    const auto findings = check(z);
    const auto failed = failures(findings);
    EXPECT_NE(std::find(failed.begin(), failed.end(), code), failed.end())
        << "expected " << code << ":\n"
        << dump(findings);
  }
}

TEST(RecordCheck, DmarcNoneIsAWarningWithTheAdvice) {
  Zone z = zone_without("dmarc");
  z.txt("_dmarc.example.com", "v=DMARC1; p=none; rua=mailto:postmaster@example.com");
  const auto findings = check(z);
  EXPECT_TRUE(failures(findings).empty()) << dump(findings);
  bool warned = false;
  for (const auto& f : findings) {
    if (f.code == "dmarc_policy_none") {
      warned = f.status == Status::warning && f.fix.find("p=quarantine") != std::string::npos;
    }
  }
  EXPECT_TRUE(warned) << dump(findings);
}

TEST(RecordCheck, LookupFailureIsNotCalledMissing) {
  Zone z = good_zone();
  z.broken("_dmarc.example.com");
  const auto failed = failures(check(z));
  EXPECT_EQ(failed, std::vector<std::string>{"lookup_failed"});
}

TEST(RecordCheck, WithoutKnownAddressesTheHostnameIsUsed) {
  Zone z = good_zone();
  ServerIdentity s = server();
  s.addresses.clear();
  const auto findings = check(z, s);
  EXPECT_TRUE(failures(findings).empty()) << dump(findings);
  Zone wrong = good_zone();
  wrong.txt("example.com", "v=spf1 ip4:198.51.100.1 -all");  // now two SPF records
  EXPECT_EQ(failures(check(wrong, s)), std::vector<std::string>{"spf_multiple"});
}

}  // namespace
}  // namespace postern::dns_records
