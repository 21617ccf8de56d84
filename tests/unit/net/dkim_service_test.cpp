// Where DkimService signs: small Ed25519-only messages on the caller's
// thread, anything with an RSA key (or large) on its pool.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "net/dkim_service.hpp"

namespace postern::net {
namespace {

namespace dkim = mailauth::dkim;

std::shared_ptr<const mailauth::OutgoingSigner> signer(dkim::Algorithm a) {
  return std::make_shared<const mailauth::OutgoingSigner>(
      std::vector<dkim::SigningKey>{{"example.com", "s", *dkim::generate_key(a, 2048).key}});
}

struct Where {
  mailauth::OutgoingSignature signature;
  std::thread::id thread;
};

Where sign(DkimService& service, const std::string& message) {
  std::promise<Where> p;
  service.sign(message, "a@example.com", [&p](mailauth::OutgoingSignature s) {
    p.set_value({std::move(s), std::this_thread::get_id()});
  });
  return p.get_future().get();
}

TEST(DkimService, SmallEd25519OnTheCallerLargeOrRsaOnThePool) {
  const std::string small = "From: a@example.com\r\n\r\nhi\r\n";
  const std::string large = small + std::string(DkimService::kInlineBytes, 'x') + "\r\n";
  DkimService ed(signer(dkim::Algorithm::ed25519_sha256), 1);
  EXPECT_TRUE(ed.active());
  Where w = sign(ed, small);
  EXPECT_EQ(w.signature.kind, mailauth::OutgoingSignature::Kind::signed_);
  EXPECT_EQ(w.thread, std::this_thread::get_id());
  w = sign(ed, large);
  EXPECT_EQ(w.signature.kind, mailauth::OutgoingSignature::Kind::signed_);
  EXPECT_NE(w.thread, std::this_thread::get_id());

  DkimService rsa(signer(dkim::Algorithm::rsa_sha256), 1);
  w = sign(rsa, small);
  EXPECT_EQ(w.signature.kind, mailauth::OutgoingSignature::Kind::signed_);
  EXPECT_NE(w.thread, std::this_thread::get_id());
}

TEST(DkimService, WithoutKeysNothingIsSignedAndNewKeysTakeOver) {
  DkimService service(std::make_shared<const mailauth::OutgoingSigner>(), 1);
  EXPECT_FALSE(service.active());
  const std::string m = "From: a@example.com\r\n\r\nhi\r\n";
  EXPECT_EQ(sign(service, m).signature.kind, mailauth::OutgoingSignature::Kind::not_signed);
  service.set_signer(signer(dkim::Algorithm::ed25519_sha256));
  EXPECT_TRUE(service.active());
  EXPECT_EQ(sign(service, m).signature.kind, mailauth::OutgoingSignature::Kind::signed_);
}

}  // namespace
}  // namespace postern::net
