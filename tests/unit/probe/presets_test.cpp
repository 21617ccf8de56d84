// Provider presets: names, aliases, regions, ports and their TLS modes.
#include <gtest/gtest.h>

#include <set>

#include "probe/presets.hpp"

namespace postern::probe {
namespace {

Preset must_find(std::string_view name) {
  std::string why;
  const auto p = find_preset(name, why);
  EXPECT_TRUE(p.has_value()) << name << ": " << why;
  return p.value_or(Preset{});
}

std::vector<std::uint16_t> ports_of(const Preset& p) {
  std::vector<std::uint16_t> out;
  for (const PresetPort& pp : p.ports) out.push_back(pp.port);
  return out;
}

TlsChoice mode(const Preset& p, std::uint16_t port) {
  for (const PresetPort& pp : p.ports)
    if (pp.port == port) return pp.tls;
  ADD_FAILURE() << p.name << " has no port " << port;
  return TlsChoice::automatic;
}

TEST(Presets, EveryIssueProviderIsThereWithDocumentation) {
  for (std::string_view name :
       {"gmail", "outlook", "office365", "yahoo", "icloud", "ses:us-east-1", "sendgrid", "mailgun",
        "postmark", "mailjet", "sparkpost", "mailtrap", "zoho"}) {
    const Preset p = must_find(name);
    EXPECT_FALSE(p.host.empty()) << name;
    EXPECT_EQ(p.host.find('{'), std::string::npos) << name;
    EXPECT_FALSE(p.ports.empty()) << name;
    EXPECT_EQ(p.documentation.rfind("https://", 0), 0u) << name;
  }
}

TEST(Presets, NamesAndAliasesAreUniqueAndNoHostName) {
  // A dotted alias would shadow a real host of that name ("me.com").
  std::set<std::string> seen;
  for (const Preset& p : presets()) {
    EXPECT_TRUE(seen.insert(p.name).second) << p.name;
    EXPECT_EQ(p.name.find('.'), std::string::npos) << p.name;
    for (const std::string& a : p.aliases) {
      EXPECT_TRUE(seen.insert(a).second) << a;
      EXPECT_EQ(a.find('.'), std::string::npos) << a;
    }
  }
}

TEST(Presets, HostsAndPortsAsDocumented) {
  const Preset gmail = must_find("gmail");
  EXPECT_EQ(gmail.host, "smtp.gmail.com");
  EXPECT_EQ(ports_of(gmail), (std::vector<std::uint16_t>{587, 465}));
  EXPECT_EQ(mode(gmail, 587), TlsChoice::starttls);
  EXPECT_EQ(mode(gmail, 465), TlsChoice::implicit);
  EXPECT_EQ(must_find("office365").host, "smtp.office365.com");
  EXPECT_EQ(must_find("outlook").host, "smtp-mail.outlook.com");
  EXPECT_EQ(must_find("hotmail").host, "smtp-mail.outlook.com");
  EXPECT_EQ(must_find("yahoo").host, "smtp.mail.yahoo.com");
  EXPECT_EQ(must_find("icloud").host, "smtp.mail.me.com");
  EXPECT_EQ(ports_of(must_find("icloud")), (std::vector<std::uint16_t>{587}));
  EXPECT_EQ(must_find("postmark").host, "smtp.postmarkapp.com");
  EXPECT_EQ(ports_of(must_find("postmark")), (std::vector<std::uint16_t>{587, 2525, 25}));
  EXPECT_EQ(must_find("mailjet").host, "in-v3.mailjet.com");
  EXPECT_EQ(ports_of(must_find("sparkpost")), (std::vector<std::uint16_t>{587, 2525}));
  EXPECT_EQ(must_find("mailtrap").host, "live.smtp.mailtrap.io");
  const Preset sendgrid = must_find("sendgrid");
  EXPECT_EQ(sendgrid.host, "smtp.sendgrid.net");
  EXPECT_EQ(mode(sendgrid, 2525), TlsChoice::starttls);
  EXPECT_EQ(mode(sendgrid, 465), TlsChoice::implicit);
}

TEST(Presets, SesNeedsARegionAndDocumentsFivePorts) {
  const Preset ses = must_find("ses:eu-west-1");
  EXPECT_EQ(ses.host, "email-smtp.eu-west-1.amazonaws.com");
  EXPECT_EQ(ses.region, "eu-west-1");
  EXPECT_EQ(ports_of(ses), (std::vector<std::uint16_t>{587, 2587, 465, 2465, 25}));
  for (std::uint16_t p : {587, 2587, 25}) EXPECT_EQ(mode(ses, p), TlsChoice::starttls) << p;
  for (std::uint16_t p : {465, 2465}) EXPECT_EQ(mode(ses, p), TlsChoice::implicit) << p;
  EXPECT_EQ(must_find("AWS-SES:US-GOV-WEST-1").host, "email-smtp.us-gov-west-1.amazonaws.com");

  std::string why;
  EXPECT_FALSE(find_preset("ses", why));
  EXPECT_NE(why.find("needs a region"), std::string::npos) << why;
  EXPECT_NE(why.find("ses:eu-west-1"), std::string::npos) << why;
  for (std::string_view bad : {"ses:europe", "ses:eu-west", "ses:eu_west_1", "ses:eu-west-1;rm",
                               "ses:e-west-1", "ses:eu-west-123", "ses:"}) {
    EXPECT_FALSE(find_preset(bad, why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(Presets, AwsRegionPattern) {
  for (std::string_view ok : {"us-east-1", "eu-central-2", "ap-southeast-5", "us-gov-west-1",
                              "il-central-1", "ca-west-1"})
    EXPECT_TRUE(valid_aws_region(ok)) << ok;
  for (std::string_view bad : {"", "us", "us-east", "useast1", "US-EAST-1", "us-east-1-", "1-us-2",
                               "us-east-x", "a-b-c-d-1"})
    EXPECT_FALSE(valid_aws_region(bad)) << bad;
}

TEST(Presets, RegionalHostsAndUnknownRegions) {
  EXPECT_EQ(must_find("mailgun:eu").host, "smtp.eu.mailgun.org");
  EXPECT_EQ(must_find("mailgun").host, "smtp.mailgun.org");
  EXPECT_EQ(must_find("sparkpost:eu").host, "smtp.eu.sparkpostmail.com");
  EXPECT_EQ(must_find("zoho:eu").host, "smtp.zoho.eu");
  EXPECT_EQ(must_find("zoho:in").host, "smtp.zoho.in");
  std::string why;
  EXPECT_FALSE(find_preset("zoho:mars", why));
  EXPECT_NE(why.find("eu"), std::string::npos) << why;
  EXPECT_FALSE(find_preset("gmail:eu", why));
  EXPECT_NE(why.find("no region"), std::string::npos) << why;
}

TEST(Presets, PortAfterTheNameKeepsOnlyThatPort) {
  const Preset gmail465 = must_find("gmail:465");
  ASSERT_EQ(gmail465.ports.size(), 1u);
  EXPECT_EQ(gmail465.ports[0].port, 465);
  EXPECT_EQ(gmail465.ports[0].tls, TlsChoice::implicit);
  const Preset ses = must_find("ses:eu-west-1:2465");
  EXPECT_EQ(ses.host, "email-smtp.eu-west-1.amazonaws.com");
  ASSERT_EQ(ses.ports.size(), 1u);
  EXPECT_EQ(ses.ports[0].port, 2465);
  EXPECT_EQ(ses.ports[0].tls, TlsChoice::implicit);
  EXPECT_EQ(must_find("mailgun:eu:2525").host, "smtp.eu.mailgun.org");
  std::string why;
  EXPECT_FALSE(find_preset("ses:587", why));
  EXPECT_NE(why.find("needs a region"), std::string::npos) << why;
  const Preset odd = must_find("Gmail:2525");
  ASSERT_EQ(odd.ports.size(), 1u);
  EXPECT_EQ(odd.ports[0].tls, TlsChoice::automatic);
}

TEST(Presets, UnknownNamesAreHostNames) {
  std::string why = "stale";
  for (std::string_view host : {"mail.example.com", "mail.example.com:587", "192.0.2.1:25",
                                "[2001:db8::1]:587", "gmailx", "localhost"}) {
    EXPECT_FALSE(find_preset(host, why)) << host;
    EXPECT_TRUE(why.empty()) << host << ": " << why;
  }
}

}  // namespace
}  // namespace postern::probe
