// Keys, key records and their TXT form (RFC 6376 §3.6, RFC 8463 §4).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim_test_keys.hpp"
#include "mailauth/dkim/key.hpp"
#include "mailauth/dkim/key_record.hpp"

namespace postern::mailauth::dkim {
namespace {

std::string pem_of(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(k);
  return out;
}

TEST(Key, Rfc8032KeyGivesTheRfc8463Record) {
  const PrivateKeyResult r = parse_private_key(test::rfc8032_private_pem());
  ASSERT_TRUE(r.key) << r.error;
  EXPECT_EQ(r.key->algorithm(), Algorithm::ed25519_sha256);
  EXPECT_EQ(r.key->public_key_base64(), test::rfc8032_public);
  EXPECT_EQ(public_key_record(*r.key),
            "v=DKIM1; k=ed25519; p=" + std::string(test::rfc8032_public));
  EXPECT_EQ(public_key_record_for_pem(test::rfc8032_private_pem()).record,
            public_key_record(*r.key));
}

TEST(Key, GeneratedKeysRoundTripThroughPem) {
  for (auto [alg, bits] :
       {std::pair{Algorithm::ed25519_sha256, 0}, std::pair{Algorithm::rsa_sha256, 2048}}) {
    const PrivateKeyResult g = generate_key(alg, bits);
    ASSERT_TRUE(g.key) << g.error;
    const PrivateKeyResult back = parse_private_key(g.key->to_pem());
    ASSERT_TRUE(back.key) << back.error;
    EXPECT_EQ(back.key->algorithm(), alg);
    EXPECT_EQ(back.key->public_key_base64(), g.key->public_key_base64());
    if (alg == Algorithm::rsa_sha256) {
      EXPECT_EQ(back.key->bits(), 2048);
    }
    // What the public key in the record verifies is what the private key signs.
    const std::string digest(32, '\x42');
    const std::string sig = g.key->sign_digest(digest);
    ASSERT_FALSE(sig.empty());
    const KeyRecordResult rec = parse_key_record(public_key_record(*g.key));
    ASSERT_TRUE(rec.record) << rec.error;
    const PublicKeyResult pk = parse_public_key(rec.record->key_type, rec.record->public_key);
    ASSERT_TRUE(pk.key) << pk.error;
    EXPECT_TRUE(pk.key->verify_digest(digest, sig));
    EXPECT_FALSE(pk.key->verify_digest(std::string(32, '\x43'), sig));
  }
}

// Ed25519 is signed by libsodium with the key converted at load time;
// Ed25519 signatures are deterministic (RFC 8032 §5.1.6), so it must give
// exactly OpenSSL's signature for the same key and digest.
TEST(Key, Ed25519SignatureIsOpenSslsSignature) {
  for (int i = 0; i < 8; ++i) {
    const PrivateKeyResult g = i == 0 ? parse_private_key(test::rfc8032_private_pem())
                                      : generate_key(Algorithm::ed25519_sha256, 0);
    ASSERT_TRUE(g.key) << g.error;
    const std::string digest(32, static_cast<char>('a' + i));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned char want[64];
    std::size_t len = sizeof want;
    ASSERT_EQ(EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, g.key->native()), 1);
    ASSERT_EQ(EVP_DigestSign(ctx, want, &len, reinterpret_cast<const unsigned char*>(digest.data()),
                             digest.size()),
              1);
    EVP_MD_CTX_free(ctx);
    EXPECT_EQ(g.key->sign_digest(digest), std::string(reinterpret_cast<char*>(want), len));
    // Copies share the converted key.
    const PrivateKey copy = *g.key;
    EXPECT_EQ(copy.sign_digest(digest), g.key->sign_digest(digest));
  }
}

TEST(Key, RefusesWhatCannotSign) {
  EXPECT_EQ(parse_private_key("hello").error, "it is not a PEM private key");
  EXPECT_NE(parse_private_key(pem_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")))
                .error.find("an EC (ECDSA) key"),
            std::string::npos);
  const std::string small = pem_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{512}));
  EXPECT_NE(parse_private_key(small).error.find("512 bits"), std::string::npos);
  EXPECT_NE(
      parse_private_key("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n")
          .error.find("public key"),
      std::string::npos);
  EXPECT_FALSE(generate_key(Algorithm::rsa_sha256, 512).key);
}

struct RecordCase {
  std::string text;
  bool ok;
  Algorithm type = Algorithm::rsa_sha256;
  bool revoked = false, testing = false, strict = false, sha256 = true, email = true;
};

TEST(KeyRecord, Table) {
  const std::string p = "p=" + std::string(test::rfc8032_public);
  const RecordCase cases[] = {
      {std::string(test::rfc_rsa_record), true},
      {"v=DKIM1; k=ed25519; " + p, true, Algorithm::ed25519_sha256},
      {"k=ed25519; " + p, true, Algorithm::ed25519_sha256},  // v= is optional
      {"v=DKIM1; p=", true, Algorithm::rsa_sha256, true},    // revoked
      {"v=DKIM1; t=y:s; h=sha1:sha256; s=email; " + p, true, Algorithm::rsa_sha256, false, true,
       true},
      {"v=DKIM1; h=sha1; " + p, true, Algorithm::rsa_sha256, false, false, false, false},
      {"v=DKIM1; s=tlsrpt; " + p, true, Algorithm::rsa_sha256, false, false, false, true, false},
      {"k=rsa; v=DKIM1; " + p, false},  // v= not first
      {"v=DKIM2; " + p, false},
      {"v=DKIM1; k=dsa; " + p, false},
      {"v=DKIM1; k=rsa", false},       // no p=
      {"v=DKIM1; p=abc\"def", false},  // a quote left in by a registrar form
      {"v=DKIM1; p=MIGf MA0G", true},  // white space inside p= is folding
  };
  for (const RecordCase& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    const KeyRecordResult r = parse_key_record(c.text);
    ASSERT_EQ(r.record.has_value(), c.ok) << r.error;
    if (!c.ok) continue;
    EXPECT_EQ(r.record->key_type, c.type);
    EXPECT_EQ(r.record->revoked(), c.revoked);
    EXPECT_EQ(r.record->testing, c.testing);
    EXPECT_EQ(r.record->strict_identity, c.strict);
    EXPECT_EQ(r.record->allows_sha256, c.sha256);
    EXPECT_EQ(r.record->allows_email, c.email);
  }
  EXPECT_EQ(parse_key_record("v=DKIM1; p=MIGf MA0G").record->public_key_base64, "MIGfMA0G");
}

TEST(KeyRecord, SplitIntoTxtStrings) {
  const std::string rsa2048 = public_key_record(*generate_key(Algorithm::rsa_sha256, 2048).key);
  const std::string ed25519 = public_key_record(*generate_key(Algorithm::ed25519_sha256, 0).key);
  // A 4096-bit key's record: p= of 736 characters.
  const std::string rsa4096 = "v=DKIM1; k=rsa; p=" + std::string(736, 'Q');
  for (const std::string& record : {rsa2048, rsa4096, ed25519}) {
    const auto strings = split_txt_strings(record);
    std::string joined;
    for (const std::string& s : strings) {
      EXPECT_LE(s.size(), 255u);
      EXPECT_FALSE(s.empty());
      joined += s;
    }
    EXPECT_EQ(joined, record);
    if (record.size() <= 255) {
      EXPECT_EQ(strings.size(), 1u);
    }
    // The tags before p= stay whole in the first string.
    EXPECT_TRUE(strings[0].starts_with("v=DKIM1; k="));
  }
  EXPECT_EQ(split_txt_strings(""), std::vector<std::string>{""});
  EXPECT_EQ(zone_file_line("s1", "example.com", "v=DKIM1; k=ed25519; p=abc"),
            "s1._domainkey.example.com. 3600 IN TXT ( \"v=DKIM1; k=ed25519; p=abc\" )");
  const std::string long_record = "v=DKIM1; k=rsa; p=" + std::string(400, 'A');
  EXPECT_EQ(zone_file_line("s", "d.test", long_record),
            "s._domainkey.d.test. 3600 IN TXT ( \"v=DKIM1; k=rsa; \" \"p=" + std::string(253, 'A') +
                "\" \"" + std::string(147, 'A') + "\" )");
}

}  // namespace
}  // namespace postern::mailauth::dkim
