#include "control/local_envelope.hpp"

#include <gtest/gtest.h>

#include "policy/static_directory.hpp"

namespace postern::control {
namespace {

const policy::StaticDirectory kDirectory({"example.test"}, {"alice@example.test"});

LocalOrigin origin() {
  LocalOrigin o;
  o.uid = 33;
  o.hostname = "mx.example.test";
  o.unique = "1700000000.1.abcd.sendmail";
  o.when = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  return o;
}

Response refusal(const std::variant<Envelope, Response>& r) {
  EXPECT_TRUE(std::holds_alternative<Response>(r));
  return std::holds_alternative<Response>(r) ? std::get<Response>(r) : Response{};
}

TEST(LocalEnvelope, LocalAndRemoteRecipientsPass) {
  const auto r = check_local_envelope({"root@example.test", {"alice@example.test", "bob@far.test"}},
                                      kDirectory, 10);
  ASSERT_TRUE(std::holds_alternative<Envelope>(r));
  const Envelope& e = std::get<Envelope>(r);
  EXPECT_EQ(e.mail_from, "root@example.test");
  ASSERT_EQ(e.recipients.size(), 2u);
  EXPECT_EQ(e.recipients[1].address, "bob@far.test");
  EXPECT_EQ(e.helo, "local");
  EXPECT_FALSE(e.smtputf8);
}

TEST(LocalEnvelope, UnknownLocalUserIsRefusedAtOnce) {
  const Response r = refusal(check_local_envelope({"", {"nobody@example.test"}}, kDirectory, 10));
  EXPECT_EQ(r.kind, ErrorKind::nouser);
  EXPECT_EQ(r.text, "<nobody@example.test>: Recipient address rejected: User unknown");
}

TEST(LocalEnvelope, BadAddressesAndTooManyRecipients) {
  EXPECT_EQ(refusal(check_local_envelope({"a b@x", {"alice@example.test"}}, kDirectory, 10)).kind,
            ErrorKind::usage);
  EXPECT_EQ(refusal(check_local_envelope({"", {"<>"}}, kDirectory, 10)).kind, ErrorKind::usage);
  const Response r = refusal(check_local_envelope(
      {"", {"alice@example.test", "alice@example.test", "alice@example.test"}}, kDirectory, 2));
  EXPECT_EQ(r.text, "too many recipients (at most 2)");
}

TEST(LocalEnvelope, NonAsciiSetsSmtputf8AndEightBit) {
  const auto r = prepare_local_submission({"", {"jörg@far.test"}}, "Subject: é\n\nbody\n", origin(),
                                          kDirectory, 10);
  ASSERT_TRUE(std::holds_alternative<LocalMessage>(r));
  const LocalMessage& m = std::get<LocalMessage>(r);
  EXPECT_TRUE(m.envelope.smtputf8);
  EXPECT_TRUE(m.envelope.eight_bit);
  EXPECT_EQ(m.data.find("\n\n"), std::string::npos) << "line ends are CRLF";
  EXPECT_EQ(m.data.rfind("Received: from local (uid 33)", 0), 0u);
}

TEST(LocalEnvelope, MinusTBouncesUnknownRecipientsAndKeepsTheOthers) {
  SubmitEnvelope in{
      "alice@example.test", {"alice@example.test", "gone@example.test", "x@far.test"}, true};
  const auto r = prepare_local_submission(in, "Subject: form\n\nhi\n", origin(), kDirectory, 10);
  ASSERT_TRUE(std::holds_alternative<LocalMessage>(r));
  const LocalMessage& m = std::get<LocalMessage>(r);
  ASSERT_EQ(m.envelope.recipients.size(), 2u);
  EXPECT_EQ(m.bounced, std::vector<std::string>{"gone@example.test"});
  ASSERT_TRUE(m.bounce);
  EXPECT_EQ(m.bounce->envelope.mail_from, "");
  ASSERT_EQ(m.bounce->envelope.recipients.size(), 1u);
  EXPECT_EQ(m.bounce->envelope.recipients[0].address, "alice@example.test");
  EXPECT_NE(m.bounce->data.find("Final-Recipient: rfc822; gone@example.test"), std::string::npos);
  EXPECT_NE(m.bounce->data.find("Status: 5.1.1"), std::string::npos);
  // Without -t the same envelope is refused whole; with the null sender
  // there is nobody to bounce to.
  in.bounce_unknown = false;
  EXPECT_TRUE(std::holds_alternative<Response>(
      prepare_local_submission(in, "x\n", origin(), kDirectory, 10)));
  in = SubmitEnvelope{"", {"gone@example.test"}, true};
  const auto only = prepare_local_submission(in, "x\n", origin(), kDirectory, 10);
  ASSERT_TRUE(std::holds_alternative<LocalMessage>(only));
  EXPECT_TRUE(std::get<LocalMessage>(only).envelope.recipients.empty());
  EXPECT_FALSE(std::get<LocalMessage>(only).bounce);
}

TEST(LocalEnvelope, HeaderFromOwnershipOfTheLocalUser) {
  const LocalIdentity www{false, "www-data", "www-data@example.test", "www-data@mx.example.test"};
  const LocalIdentity alice{false, "alice", "alice@example.test", "alice@mx.example.test"};
  const LocalIdentity root{true, "root", "root@example.test", "root@mx.example.test"};
  struct Row {
    const LocalIdentity& who;
    std::string header;
    bool ok;
  };
  const std::vector<Row> rows = {
      {root, "From: anyone@anywhere.test", true},
      {www, "From: www-data@mx.example.test", true},  // what sendmail adds by default
      {www, "From: Shop <www-data@example.test>", true},
      {www, "From: alice@example.test", false},
      {alice, "From: Alice <alice+news@example.test>", true},
      {alice, "From: alice@example.test\nSender: bob@example.test", false},
  };
  for (const auto& row : rows) {
    const auto r = prepare_local_submission({"", {"alice@example.test"}}, row.header + "\n\nx\n",
                                            origin(), kDirectory, 10, row.who);
    EXPECT_EQ(std::holds_alternative<LocalMessage>(r), row.ok) << row.header;
    if (!row.ok && std::holds_alternative<Response>(r)) {
      EXPECT_EQ(std::get<Response>(r).kind, ErrorKind::noperm);
    }
  }
}

}  // namespace
}  // namespace postern::control
