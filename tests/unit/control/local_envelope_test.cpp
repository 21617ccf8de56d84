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

}  // namespace
}  // namespace postern::control
