// The SMTP session with the address book behind it (SPEC §1.9): recipients
// expanded at the envelope, <Postmaster> without a domain, SRS addresses,
// and the header From:/Sender: ownership check after DATA.
#include <gtest/gtest.h>

#include "addresses/address_directory.hpp"
#include "unit/smtp/session_harness.hpp"

namespace postern::addresses {
namespace {

using smtp::test::Harness;
using smtp::test::head;

const AddressDirectory& dir() {
  static const AddressDirectory d([] {
    BookSettings s;
    s.local_domains = {"example.com", "example.org"};
    s.default_domain = "example.com";
    s.srs.secrets = {"unit-test-secret"};
    s.srs.domain = "example.com";
    const AliasFile f = parse_aliases(
        "info@example.com: alice@example.com, bob@example.com\n"
        "team@example.com: info@example.com, bob@example.com\n"
        "fwd@example.com: someone@remote.example\n"
        "@example.org: bob@example.com\n",
        "aliases", "example.com");
    return std::make_shared<const AddressBook>(
        s, std::vector<std::string>{"alice@example.com", "bob@example.com"}, f.entries);
  }());
  return d;
}

std::vector<std::string> say(Harness& h, const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    h.feed(l + "\r\n");
    for (const auto& r : h.new_replies()) out.push_back(head(r));
  }
  return out;
}

std::vector<std::string> recipients(const smtp::CommitMessage& c) {
  std::vector<std::string> out;
  for (const auto& r : c.envelope.recipients) out.push_back(r.address);
  return out;
}

TEST(SessionAddresses, RecipientsAreExpandedOnceEach) {
  Harness h(smtp::test::relay(), {}, dir());
  h.start();
  h.new_replies();  // the greeting
  const auto r =
      say(h, {"EHLO client.example", "MAIL FROM:<x@sender.example>", "RCPT TO:<Info@Example.com>",
              "RCPT TO:<team@example.com>", "RCPT TO:<BOB+tag@example.com>", "RCPT TO:<Postmaster>",
              "RCPT TO:<whoever@example.org>", "RCPT TO:<nobody@example.com>", "DATA",
              "Subject: x\r\n\r\nhi\r\n."});
  ASSERT_EQ(r.size(), 10u);
  for (std::size_t i = 1; i <= 6; ++i) EXPECT_TRUE(r[i].starts_with("250")) << r[i];
  EXPECT_TRUE(r[7].starts_with("550 5.1.1")) << r[7];
  EXPECT_TRUE(r[9].starts_with("250")) << r[9];
  const auto& commits = h.outcome().commits;
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(recipients(commits[0]),
            (std::vector<std::string>{"alice@example.com", "bob@example.com"}));
  EXPECT_EQ(commits[0].envelope.recipients[0].orcpt, "rfc822;Info@Example.com");
}

TEST(SessionAddresses, SrsBouncesGoBackToTheOriginalSender) {
  const auto now = std::chrono::system_clock::now();
  const std::string srs = *srs_forward(dir().book().settings().srs, "orig@sender.example", now);
  std::string tampered = srs;
  tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
  Harness h(smtp::test::relay(), {}, dir());
  h.start();
  h.new_replies();  // the greeting
  const auto r = say(h, {"EHLO mx.remote.example", "MAIL FROM:<>", "RCPT TO:<" + tampered + ">",
                         "RCPT TO:<" + srs + ">", "DATA", "Subject: bounce\r\n\r\nx\r\n."});
  ASSERT_EQ(r.size(), 6u);
  EXPECT_TRUE(r[2].starts_with("550 5.1.1")) << r[2];
  EXPECT_TRUE(r[3].starts_with("250")) << r[3];
  ASSERT_EQ(h.outcome().commits.size(), 1u);
  EXPECT_EQ(recipients(h.outcome().commits[0]), std::vector<std::string>{"orig@sender.example"});
}

struct FromRow {
  std::string header;
  std::string reply;  // start of the reply to the end of DATA
};

TEST(SessionAddresses, HeaderFromMustBeOwned) {
  const std::vector<FromRow> rows = {
      {"From: Alice <alice@example.com>", "250"},
      {"From: ALICE+news@EXAMPLE.com", "250"},
      {"From: Info Desk <info@example.com>", "250"},  // send-as through an alias
      {"From: \"Bob\" <bob@example.com>", "550 5.7.1 <bob@example.com>: From address"},
      {"From: alice@example.com, bob@example.com", "550 5.7.1 <bob@example.com>"},
      {"From: alice@example.com\r\nSender: mallory@evil.example",
       "550 5.7.1 <mallory@evil.example>: Sender address"},
      {"From: whoever@example.org", "550 5.7.1"},  // catch-all is no send-as
      {"From: Bob\r\n <bob@example.com>", "550 5.7.1 <bob@example.com>"},  // folded
  };
  for (const auto& row : rows) {
    Harness h(smtp::test::submission(TlsMode::implicit), {}, dir());
    h.start();
    h.new_replies();
    const auto r = say(h, {"EHLO client.example", "AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==",
                           "MAIL FROM:<alice@example.com>", "RCPT TO:<x@remote.example>", "DATA",
                           row.header + "\r\nSubject: t\r\n\r\nbody\r\n.", "RSET"});
    ASSERT_EQ(r.size(), 7u) << row.header;
    EXPECT_TRUE(r[1].starts_with("235")) << r[1];
    EXPECT_TRUE(r[5].starts_with(row.reply)) << row.header << " -> " << r[5];
    EXPECT_EQ(h.outcome().commits.size(), row.reply == "250" ? 1u : 0u) << row.header;
    EXPECT_TRUE(r[6].starts_with("250")) << r[6];
  }
}

TEST(SessionAddresses, RelayMailIsNotCheckedForHeaderFrom) {
  Harness h(smtp::test::relay(), {}, dir());
  h.start();
  h.new_replies();  // the greeting
  const auto r =
      say(h, {"EHLO client.example", "MAIL FROM:<x@sender.example>", "RCPT TO:<alice@example.com>",
              "DATA", "From: bob@example.com\r\n\r\nhi\r\n."});
  EXPECT_TRUE(r.back().starts_with("250")) << r.back();
}

}  // namespace
}  // namespace postern::addresses
