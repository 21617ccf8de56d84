// Certificate generation (the embedded default's first start) and the
// inspection `postern check` relies on.
#include "tls/certificate.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "tools/cert_maker.hpp"
#include "tools/temp_dir.hpp"

namespace postern::tls {
namespace {

using postern::testing::CertSpec;
using postern::testing::make_certificate;
using postern::testing::TempDir;
using std::chrono::hours;
using std::chrono::system_clock;
using ::testing::Contains;
using ::testing::HasSubstr;

TEST(GenerateSelfSigned, WritesAWorkingPairWithAPrivateKey) {
  TempDir dir;
  const auto cert = dir / "a" / "tls" / "cert.pem";  // parent directories are created
  const auto key = dir / "a" / "tls" / "key.pem";
  ASSERT_EQ(generate_self_signed(cert, key, "mail.example.com"), "");

  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const CertificateReport r = inspect(cert, key);
  ASSERT_TRUE(r.loaded) << r.load_error;
  ASSERT_TRUE(r.key_loaded) << r.key_error;
  EXPECT_TRUE(r.key_matches);
  EXPECT_TRUE(r.self_signed);
  EXPECT_FALSE(r.expired);
  EXPECT_FALSE(r.not_yet_valid);
  EXPECT_THAT(r.names, Contains("mail.example.com"));
  EXPECT_THAT(r.names, Contains("localhost"));
  EXPECT_THAT(r.subject, HasSubstr("CN=mail.example.com"));
  EXPECT_EQ(r.subject, r.issuer);
  // 825 days, give or take the hour of back-dating.
  const auto days =
      std::chrono::duration_cast<hours>(r.not_after - system_clock::now()).count() / 24;
  EXPECT_GE(days, 824);
  EXPECT_LE(days, 825);
}

TEST(GenerateSelfSigned, LocalhostAndFreshSerials) {
  TempDir dir;
  ASSERT_EQ(generate_self_signed(dir / "c1.pem", dir / "k1.pem", "localhost"), "");
  ASSERT_EQ(generate_self_signed(dir / "c2.pem", dir / "k2.pem", "localhost"), "");
  const auto a = inspect(dir / "c1.pem", dir / "k1.pem");
  const auto b = inspect(dir / "c2.pem", dir / "k2.pem");
  EXPECT_TRUE(a.key_matches);
  EXPECT_EQ(a.names, (std::vector<std::string>{"localhost"}));
  // Different keys: the first key does not match the second certificate.
  EXPECT_FALSE(inspect(dir / "c2.pem", dir / "k1.pem").key_matches);
  EXPECT_TRUE(b.loaded);
}

TEST(GenerateSelfSigned, ReportsUnwritablePaths) {
  TempDir dir;
  const auto file = dir.write("file", "x");
  const std::string err = generate_self_signed(file / "cert.pem", file / "key.pem", "h.example");
  EXPECT_THAT(err, HasSubstr("cannot create"));
}

TEST(Inspect, CaSignedChainFile) {
  TempDir dir;
  CertSpec spec;
  spec.dns_names = {"mail.example.com", "*.example.org"};
  make_certificate(dir / "fullchain.pem", dir / "key.pem", spec);
  const auto r = inspect(dir / "fullchain.pem", dir / "key.pem");
  ASSERT_TRUE(r.loaded);
  EXPECT_TRUE(r.key_matches);  // the first certificate of the chain is the leaf
  EXPECT_FALSE(r.self_signed);
  EXPECT_THAT(r.issuer, HasSubstr("Test CA"));
  EXPECT_EQ(r.names, (std::vector<std::string>{"mail.example.com", "*.example.org"}));
  EXPECT_TRUE(names_cover(r.names, "MAIL.example.com."));
  EXPECT_TRUE(names_cover(r.names, "smtp.example.org"));
  EXPECT_FALSE(names_cover(r.names, "example.org"));
  EXPECT_FALSE(names_cover(r.names, "a.b.example.org"));
  EXPECT_FALSE(names_cover(r.names, "example.com"));
}

TEST(Inspect, ExpiredAndNotYetValid) {
  TempDir dir;
  CertSpec expired;
  expired.not_before = -hours(24 * 100);
  expired.not_after = -hours(24);
  make_certificate(dir / "old.pem", dir / "old.key", expired);
  const auto r = inspect(dir / "old.pem", dir / "old.key");
  EXPECT_TRUE(r.expired);
  EXPECT_FALSE(r.not_yet_valid);
  EXPECT_LT(r.not_after, system_clock::now());

  CertSpec future;
  future.not_before = hours(48);
  make_certificate(dir / "new.pem", dir / "new.key", future);
  const auto f = inspect(dir / "new.pem", dir / "new.key");
  EXPECT_TRUE(f.not_yet_valid);
  EXPECT_FALSE(f.expired);
}

TEST(Inspect, SelfSignedMadeElsewhere) {
  TempDir dir;
  CertSpec spec;
  spec.self_signed = true;
  make_certificate(dir / "c.pem", dir / "k.pem", spec);
  EXPECT_TRUE(inspect(dir / "c.pem", dir / "k.pem").self_signed);
}

TEST(Inspect, MissingGarbageAndMismatch) {
  TempDir dir;
  make_certificate(dir / "c.pem", dir / "k.pem", CertSpec{});
  make_certificate(dir / "c2.pem", dir / "k2.pem", CertSpec{});
  dir.write("garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n");

  const auto missing = inspect(dir / "none.pem", dir / "none.key");
  EXPECT_FALSE(missing.loaded);
  EXPECT_EQ(missing.load_error, "no such file");
  EXPECT_FALSE(missing.key_loaded);
  EXPECT_EQ(missing.key_error, "no such file");

  const auto garbage = inspect(dir / "garbage.pem", dir / "garbage.pem");
  EXPECT_FALSE(garbage.loaded);
  EXPECT_THAT(garbage.load_error, HasSubstr("no PEM certificate"));
  EXPECT_FALSE(garbage.key_loaded);
  EXPECT_THAT(garbage.key_error, HasSubstr("no PEM private key"));

  const auto dirs = inspect(dir.path(), dir.path());
  EXPECT_EQ(dirs.load_error, "it is a directory");

  const auto mismatch = inspect(dir / "c.pem", dir / "k2.pem");
  EXPECT_TRUE(mismatch.loaded);
  EXPECT_TRUE(mismatch.key_loaded);
  EXPECT_FALSE(mismatch.key_matches);
}

}  // namespace
}  // namespace postern::tls
