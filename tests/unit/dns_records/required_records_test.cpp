#include "dns_records/required_records.hpp"

#include <gtest/gtest.h>

namespace postern::dns_records {
namespace {

TEST(RequiredRecords, EveryRecordTheDomainNeeds) {
  ServerIdentity s;
  s.domain = "example.com";
  s.hostname = "mail.example.com";
  s.addresses = {"192.0.2.10", "2001:db8::25"};
  s.dkim = {{"2026r", "v=DKIM1; k=rsa; p=MIIB", "/k.pem"}};
  const auto records = required_records(s);
  std::vector<std::string> lines;
  for (const auto& r : records) lines.push_back(zone_line(r));
  const std::vector<std::string> expected = {
      "example.com.                     IN MX   10 mail.example.com.",
      "mail.example.com.                IN A    192.0.2.10",
      "mail.example.com.                IN AAAA 2001:db8::25",
      "example.com.                     IN TXT  \"v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 -all\"",
      "2026r._domainkey.example.com.    IN TXT  \"v=DKIM1; k=rsa; p=MIIB\"",
      "_dmarc.example.com.              IN TXT  \"v=DMARC1; p=none; "
      "rua=mailto:postmaster@example.com\"",
      "10.2.0.192.in-addr.arpa.         IN PTR  mail.example.com.",
      "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. IN PTR  "
      "mail.example.com.",
  };
  EXPECT_EQ(lines, expected);
}

TEST(RequiredRecords, SpfNamesTheHostWhenAddressesAreUnknown) {
  ServerIdentity s;
  s.domain = "example.com";
  s.hostname = "mail.example.com";
  EXPECT_EQ(spf_record_for(s), "v=spf1 a:mail.example.com -all");
}

TEST(RequiredRecords, LongTxtIsSplitInto255OctetStrings) {
  const std::string value(600, 'A');
  const std::string q = quoted_txt(value);
  EXPECT_EQ(q, "\"" + std::string(255, 'A') + "\" \"" + std::string(255, 'A') + "\" \"" +
                   std::string(90, 'A') + "\"");
  EXPECT_EQ(quoted_txt("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quoted_txt(""), "\"\"");
}

}  // namespace
}  // namespace postern::dns_records
