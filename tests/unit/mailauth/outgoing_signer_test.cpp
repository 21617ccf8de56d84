// Choosing the keys for an outgoing message by its author domain.
#include <gtest/gtest.h>

#include "dkim_test_keys.hpp"
#include "mailauth/author_domain.hpp"
#include "mailauth/dkim/key_record.hpp"
#include "mailauth/dkim/verifier.hpp"
#include "mailauth/outgoing_signer.hpp"

namespace postern::mailauth {
namespace {

using dkim::test::crlf;

TEST(AuthorDomain, FromFields) {
  struct Case {
    std::string message;
    std::vector<std::string> domains;
  };
  const Case cases[] = {
      {crlf({"From: a@Example.COM", "", "x"}), {"example.com"}},
      {crlf({"From: \"x@evil.test\" <a@example.com> (b@comment.test)", ""}), {"example.com"}},
      {crlf({"From: Name", " <a@example.com.>", ""}), {"example.com"}},
      {crlf({"From: a@example.com (Joe)", ""}), {"example.com"}},
      {crlf({"From: a@one.test, b@two.test", ""}), {"one.test"}},
      {crlf({"From: team: a@example.com, b@x.test;", ""}), {"example.com"}},
      {crlf({"From: nobody", ""}), {""}},
      {crlf({"Subject: none", ""}), {}},
      {crlf({"From: a@one.test", "from: b@two.test", ""}), {"one.test", "two.test"}},
      {crlf({"Subject: x", "", "From: body@not.header"}), {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    EXPECT_EQ(from_domains(c.message), c.domains);
  }
  EXPECT_EQ(address_domain("u@Sub.Example.com"), "sub.example.com");
  EXPECT_EQ(address_domain(""), "");
}

class OutgoingSignerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new dkim::PrivateKey(*dkim::generate_key(dkim::Algorithm::rsa_sha256, 2048).key);
    ed_ = new dkim::PrivateKey(*dkim::generate_key(dkim::Algorithm::ed25519_sha256, 0).key);
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ed_;
  }
  OutgoingSigner signer() const {
    return OutgoingSigner(
        {{"example.com", "r", *rsa_}, {"example.com", "e", *ed_}, {"other.test", "o", *ed_}});
  }
  static dkim::Outcome check(const std::string& m, std::size_t i, const dkim::PrivateKey& k) {
    dkim::KeyAnswer a;
    a.status = dkim::KeyAnswer::Status::found;
    a.records.push_back(dkim::public_key_record(k));
    return dkim::verify(m, dkim::find_signatures(m).at(i), a, 10).outcome;
  }
  static dkim::PrivateKey* rsa_;
  static dkim::PrivateKey* ed_;
};
dkim::PrivateKey* OutgoingSignerTest::rsa_ = nullptr;
dkim::PrivateKey* OutgoingSignerTest::ed_ = nullptr;

TEST_F(OutgoingSignerTest, SignsWithEveryKeyOfTheFromDomain) {
  const std::string m = crlf({"From: A <a@Example.com>", "Subject: s", "", "hi"});
  const OutgoingSignature s = signer().sign(m, "bounce@elsewhere.test", 5);
  ASSERT_EQ(s.kind, OutgoingSignature::Kind::signed_) << s.reason;
  EXPECT_EQ(s.domain, "example.com");
  EXPECT_EQ(s.selectors, "r,e");
  const std::string signed_message = s.header_fields + m;
  EXPECT_EQ(check(signed_message, 0, *rsa_), dkim::Outcome::pass);
  EXPECT_EQ(check(signed_message, 1, *ed_), dkim::Outcome::pass);
}

TEST_F(OutgoingSignerTest, NoKeyNoSignature) {
  const OutgoingSignature s =
      signer().sign(crlf({"From: a@unknown.test", "", "x"}), "a@example.com", 5);
  EXPECT_EQ(s.kind, OutgoingSignature::Kind::not_signed);
  EXPECT_TRUE(s.header_fields.empty());
  EXPECT_EQ(OutgoingSigner().sign(crlf({"From: a@example.com", ""}), "", 5).kind,
            OutgoingSignature::Kind::not_signed);
}

TEST_F(OutgoingSignerTest, WithoutFromTheEnvelopeSenderDomainSigns) {
  const std::string m = crlf({"Subject: s", "", "x"});
  const OutgoingSignature s = signer().sign(m, "a@other.test", 5);
  ASSERT_EQ(s.kind, OutgoingSignature::Kind::signed_);
  EXPECT_EQ(s.domain, "other.test");
  EXPECT_EQ(check(s.header_fields + m, 0, *ed_), dkim::Outcome::pass);
  // A From added later breaks it.
  EXPECT_EQ(check("From: a@other.test\r\n" + s.header_fields + m, 0, *ed_), dkim::Outcome::fail);
}

TEST_F(OutgoingSignerTest, TwoFromFieldsAreRefusedWhenEitherHasAKey) {
  const OutgoingSignature s =
      signer().sign(crlf({"From: a@unknown.test", "From: b@example.com", "", "x"}), "", 5);
  EXPECT_EQ(s.kind, OutgoingSignature::Kind::refused);
  EXPECT_NE(s.reason.find("2 From: header fields"), std::string::npos);
  EXPECT_EQ(signer().sign(crlf({"From: a@x.test", "From: b@y.test", "", "x"}), "", 5).kind,
            OutgoingSignature::Kind::not_signed);
}

}  // namespace
}  // namespace postern::mailauth
