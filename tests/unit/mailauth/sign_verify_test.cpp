// Signing and verifying (RFC 6376 §5, §6; RFC 8463), against published
// vectors and against each other.
#include <gtest/gtest.h>

#include "dkim_test_keys.hpp"
#include "mailauth/dkim/key_record.hpp"
#include "mailauth/dkim/signer.hpp"
#include "mailauth/dkim/verifier.hpp"

namespace postern::mailauth::dkim {
namespace {

using test::crlf;

const std::string rfc_body =
    crlf({"Hi.", "", "We lost the game.  Are you hungry yet?", "", "Joe."});
const std::string rfc_headers = crlf({
    "From: Joe SixPack <joe@football.example.com>",
    "To: Suzie Q <suzie@shopping.example.net>",
    "Subject: Is dinner ready?",
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)",
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>",
});

KeyAnswer found(std::string record) {
  KeyAnswer a;
  a.status = KeyAnswer::Status::found;
  a.records.push_back(std::move(record));
  return a;
}

KeyAnswer ed25519_rfc_key() {
  return found("v=DKIM1; k=ed25519; p=" + std::string(test::rfc8032_public));
}

// RFC 8463 Appendix A.3: the message signed with both keys, relaxed/relaxed.
TEST(Verify, Rfc8463AppendixA) {
  const std::string message = crlf({
                                  "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;",
                                  " d=football.example.com; i=@football.example.com;",
                                  " q=dns/txt; s=brisbane; t=1528637909; h=from : to :",
                                  " subject : date : message-id : from : subject : date;",
                                  " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;",
                                  " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus",
                                  " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==",
                                  "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;",
                                  " d=football.example.com; i=@football.example.com;",
                                  " q=dns/txt; s=test; t=1528637909; h=from : to : subject :",
                                  " date : message-id : from : subject : date;",
                                  " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;",
                                  " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3",
                                  " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz",
                                  " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=",
                              }) +
                              rfc_headers + "\r\n" + rfc_body;
  const auto sigs = find_signatures(message);
  ASSERT_EQ(sigs.size(), 2u);
  EXPECT_EQ(sigs[0].key_query_name(), "brisbane._domainkey.football.example.com");
  EXPECT_EQ(sigs[1].key_query_name(), "test._domainkey.football.example.com");
  const Verdict ed = verify(message, sigs[0], ed25519_rfc_key(), 1528637909);
  EXPECT_EQ(ed.outcome, Outcome::pass) << ed.reason;
  const Verdict rsa =
      verify(message, sigs[1], found(std::string(test::rfc_rsa_record)), 1528637909);
  EXPECT_EQ(rsa.outcome, Outcome::pass) << rsa.reason;
  EXPECT_EQ(rsa.key_bits, 1024);
}

// The draft version of the same example with c=simple/simple, as dkimpy's
// test suite carries it (rfc6376.signed.msg).
TEST(Verify, Rfc8463DraftSimpleSimple) {
  const std::string message = crlf({
                                  "DKIM-Signature: v=1; a=ed25519-sha256; c=simple/simple; ",
                                  " d=football.example.com; i=@football.example.com; ",
                                  " q=dns/txt; s=brisbane; t=1518460054; h=from : to : ",
                                  " subject : date : message-id : from : subject : date; ",
                                  " bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; ",
                                  " b=9/dsDChY0YMTtD5Eyw3wx7x22BlSJP7M5ECbJ7GWrR45nXlTCGb8l0YB",
                                  " o0wBLR++X5LqmsxXaOYLLJe46l10AQ==",
                                  "DKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; ",
                                  " d=football.example.com; i=@football.example.com; ",
                                  " q=dns/txt; s=test; t=1527915362; h=from : to : subject : ",
                                  " date : message-id : from : subject : date; ",
                                  " bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; ",
                                  " b=icKcLSEZYXJ95flvWE8FT6hl5iqd8MC/LEKYH0QjsqYy6MO/4pgVNCZH",
                                  " l/RAXAuADxE/40Fg7uTlxwwD1hjN2Ple6J//cJfslBdDOq6zTVbne1dqtl",
                                  " NOat7iamJ1AfRqyG+ja7a2AZsrpUuJ7VA6O+0zRYPqpwMEkEFIzI9i/Xk=",
                              }) +
                              rfc_headers + "\r\n" + rfc_body + "\r\n";
  const auto sigs = find_signatures(message);
  ASSERT_EQ(sigs.size(), 2u);
  EXPECT_EQ(verify(message, sigs[0], ed25519_rfc_key(), 0).outcome, Outcome::pass);
  EXPECT_EQ(verify(message, sigs[1], found(std::string(test::rfc_rsa_record)), 0).outcome,
            Outcome::pass);
  // One changed octet in the body: the body hash catches it.
  std::string changed = message;
  changed.replace(changed.find("hungry"), 6, "Hungry");
  const Verdict v = verify(changed, find_signatures(changed)[0], ed25519_rfc_key(), 0);
  EXPECT_EQ(v.outcome, Outcome::fail);
  EXPECT_NE(v.reason.find("body"), std::string::npos);
}

// Generating RSA keys is slow: each test run makes one of each, plus one
// other Ed25519 key for the "wrong key" case.
SigningKey key_for(Algorithm a, std::string selector) {
  static const PrivateKey rsa = *generate_key(Algorithm::rsa_sha256, 2048).key;
  static const PrivateKey ed = *generate_key(Algorithm::ed25519_sha256, 0).key;
  static const PrivateKey other = *generate_key(Algorithm::ed25519_sha256, 0).key;
  const PrivateKey& k = selector == "other" ? other : a == Algorithm::rsa_sha256 ? rsa : ed;
  return SigningKey{"example.com", std::move(selector), k};
}

KeyAnswer answer_for(const SigningKey& k) {
  return found(public_key_record(k.key));
}

// Messages that have tripped signers: all must verify after signing.
const std::vector<std::pair<std::string, std::string>> awkward = {
    {"plain", crlf({"From: a@example.com", "To: b@example.org", "Subject: hi", "", "hello"})},
    {"folded headers", crlf({"From: A <a@example.com>", "Subject: one", " two\tthree", "To: b@x,",
                             "\tc@y", "", "body"})},
    {"trailing white space",
     crlf({"From: a@example.com  ", "Subject: x \t", "", "line  ", "x \t"})},
    {"empty lines at the end", crlf({"From: a@example.com", "", "a", "", "", ""})},
    {"empty body", crlf({"From: a@example.com", "Subject: empty", ""})},
    {"no body at all", crlf({"From: a@example.com"})},
    {"no final CRLF", "From: a@example.com\r\n\r\nlast line"},
    {"8-bit", crlf({"From: =?utf-8?q?J=C3=B6rg?= <j@example.com>", "Subject: caf\xc3\xa9", "",
                    "gr\xc3\xbc\xc3\x9f", "\xff\xfe"})},
    {"998-octet lines",
     crlf({"From: a@example.com", "", std::string(998, 'x'), std::string(998, ' ')})},
    {"no From", crlf({"To: b@example.org", "Subject: nobody", "", "x"})},
    {"two of everything",
     crlf({"From: a@example.com", "To: b@x", "To: c@y", "Cc: d@z", "Subject: s", "", "x"})},
    {"header names in odd case", crlf({"FROM: a@example.com", "sUbJeCt: s", "", "x"})},
};

TEST(SignVerify, AwkwardMessagesVerifyWithBothAlgorithms) {
  const std::vector<SigningKey> keys = {key_for(Algorithm::rsa_sha256, "r1"),
                                        key_for(Algorithm::ed25519_sha256, "e1")};
  for (const auto& [name, message] : awkward) {
    SCOPED_TRACE(name);
    const SignResult s = sign(message, keys, 1700000000);
    ASSERT_TRUE(s.error.empty()) << s.error;
    const std::string signed_message = s.header_fields + message;
    const auto sigs = find_signatures(signed_message);
    ASSERT_EQ(sigs.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_TRUE(sigs[i].error.empty()) << sigs[i].error;
      EXPECT_EQ(sigs[i].selector, keys[i].selector);
      EXPECT_EQ(sigs[i].algorithm, keys[i].key.algorithm());
      EXPECT_EQ(sigs[i].timestamp, 1700000000);
      EXPECT_FALSE(sigs[i].body_length);  // no l=
      const Verdict v = verify(signed_message, sigs[i], answer_for(keys[i]), 1700000001);
      EXPECT_EQ(v.outcome, Outcome::pass) << v.reason;
    }
    // Lines stay short.
    std::size_t pos = 0, next = 0;
    while ((next = s.header_fields.find("\r\n", pos)) != std::string::npos) {
      EXPECT_LE(next - pos, 78u);
      pos = next + 2;
    }
  }
}

TEST(SignVerify, ChangesInTransitFail) {
  const SigningKey k = key_for(Algorithm::ed25519_sha256, "e1");
  const std::string message = crlf({"From: a@example.com", "To: b@example.org", "Subject: pay",
                                    "X-Not-Signed: 1", "", "Pay 10 EUR", "thanks"});
  const std::string signed_message = sign(message, {&k, 1}, 1).header_fields + message;
  auto outcome = [&](const std::string& m) {
    return verify(m, find_signatures(m).at(0), answer_for(k), 2).outcome;
  };
  EXPECT_EQ(outcome(signed_message), Outcome::pass);
  auto changed = [&](std::string_view from, std::string_view to) {
    std::string m = signed_message;
    m.replace(m.find(from), from.size(), to);
    return m;
  };
  EXPECT_EQ(outcome(changed("Pay 10 EUR", "Pay 99 EUR")), Outcome::fail);
  EXPECT_EQ(outcome(changed("Subject: pay", "Subject: PAY")), Outcome::fail);
  // A From added on top fails: From is over-signed.
  EXPECT_EQ(outcome("From: evil@example.net\r\n" + signed_message), Outcome::fail);
  // Unsigned fields and relaxed-equivalent changes pass.
  EXPECT_EQ(outcome(changed("X-Not-Signed: 1", "X-Not-Signed: 2")), Outcome::pass);
  EXPECT_EQ(outcome(changed("Subject: pay", "subject:   pay ")), Outcome::pass);
  EXPECT_EQ(outcome(changed("thanks\r\n", "thanks  \r\n\r\n\r\n")), Outcome::pass);
  // Extra white space in the middle of a line is equivalent under relaxed.
  EXPECT_EQ(outcome(changed("Pay 10 EUR", "Pay  10\tEUR")), Outcome::pass);
}

TEST(SignVerify, FieldsToSign) {
  EXPECT_EQ(fields_to_sign(crlf(
                {"Subject: s", "From: a@x", "To: b", "To: c", "X-Y: z", "List-Id: l", "", "b"})),
            (std::vector<std::string>{"from", "from", "to", "to", "subject", "list-id"}));
  EXPECT_EQ(fields_to_sign(crlf({"Subject: s", "", "b"})),
            (std::vector<std::string>{"from", "subject"}));
}

TEST(SignVerify, Ed25519SignaturesAreDeterministic) {
  const SigningKey k{"football.example.com", "brisbane",
                     *parse_private_key(test::rfc8032_private_pem()).key};
  const std::string message = rfc_headers + "\r\n" + rfc_body;
  EXPECT_EQ(sign(message, {&k, 1}, 1528637909).header_fields,
            sign(message, {&k, 1}, 1528637909).header_fields);
  // And the body hash is RFC 8463's.
  EXPECT_NE(sign(message, {&k, 1}, 1)
                .header_fields.find("bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;"),
            std::string::npos);
}

struct VerdictCase {
  std::string_view name;
  KeyAnswer answer;
  Outcome outcome;
};

TEST(Verify, KeyAnswers) {
  const SigningKey k = key_for(Algorithm::ed25519_sha256, "e1");
  const std::string message = crlf({"From: a@example.com", "", "x"});
  const std::string m = sign(message, {&k, 1}, 100).header_fields + message;
  const Signature sig = find_signatures(m).at(0);
  const std::string p = k.key.public_key_base64();
  KeyAnswer temp;
  temp.status = KeyAnswer::Status::temporary_failure;
  KeyAnswer two = found("v=DKIM1; k=ed25519; p=" + p);
  two.records.push_back(two.records[0]);
  const VerdictCase cases[] = {
      {"good", found("v=DKIM1; k=ed25519; p=" + p), Outcome::pass},
      {"testing", found("v=DKIM1; k=ed25519; t=y; p=" + p), Outcome::pass},
      {"no record", KeyAnswer{}, Outcome::permerror},
      {"dns trouble", temp, Outcome::temperror},
      {"two records", two, Outcome::permerror},
      {"revoked", found("v=DKIM1; k=ed25519; p="), Outcome::permerror},
      {"wrong type", found("v=DKIM1; k=rsa; p=" + p), Outcome::permerror},
      {"truncated key", found("v=DKIM1; k=ed25519; p=" + p.substr(0, 40)), Outcome::permerror},
      {"other key", answer_for(key_for(Algorithm::ed25519_sha256, "other")), Outcome::fail},
      {"not sha256", found("v=DKIM1; k=ed25519; h=sha1; p=" + p), Outcome::permerror},
  };
  for (const VerdictCase& c : cases) {
    SCOPED_TRACE(std::string(c.name));
    const Verdict v = verify(m, sig, c.answer, 100);
    EXPECT_EQ(v.outcome, c.outcome) << v.reason;
  }
}

TEST(Verify, BrokenSignatures) {
  const std::string tail = crlf({"From: a@example.com", "", "x"});
  const std::string_view broken[] = {
      "DKIM-Signature: v=1; a=rsa-sha1; d=example.com; s=s; h=from; bh=AAAA; b=AAAA",
      "DKIM-Signature: v=2; a=rsa-sha256; d=example.com; s=s; h=from; bh=AAAA; b=AAAA",
      "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=to; bh=AAAA; b=AAAA",
      "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; bh=AAAA; b=AAAA",
      "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AAAA; b=AAAA; "
      "i=@example.net",
      "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AAAA; b=AAAA; t=5; x=4",
      "DKIM-Signature: v=1; a=rsa-sha256; c=fancy; d=example.com; s=s; h=from; bh=AAAA; b=AAAA",
      "DKIM-Signature: v=1; v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AAAA; b=AAAA",
  };
  for (std::string_view field : broken) {
    SCOPED_TRACE(std::string(field));
    const std::string m = std::string(field) + "\r\n" + tail;
    const auto sigs = find_signatures(m);
    ASSERT_EQ(sigs.size(), 1u);
    EXPECT_FALSE(sigs[0].error.empty());
    EXPECT_EQ(verify(m, sigs[0], KeyAnswer{}, 0).outcome, Outcome::permerror);
  }
}

TEST(Verify, ExpiredAndLengthLimited) {
  const SigningKey k = key_for(Algorithm::ed25519_sha256, "e1");
  // A signature with l= (we never write one, but others do): text added
  // after the signed length does not break it.
  const std::string message = crlf({"From: a@example.com", "", "signed part"});
  // A Signature views the message it was found in: keep that message alive.
  const std::string signed_message = sign(message, {&k, 1}, 100).header_fields + message;
  EXPECT_EQ(
      verify(signed_message, find_signatures(signed_message).at(0), answer_for(k), 100).outcome,
      Outcome::pass);
  const Signature s = find_signatures(signed_message).at(0);
  Signature expired = s;
  expired.expiration = 150;
  EXPECT_EQ(verify(signed_message, expired, answer_for(k), 151).outcome, Outcome::fail);
  EXPECT_EQ(verify(signed_message, expired, answer_for(k), 150).outcome, Outcome::pass);
}

// l= shorter than the body: the signature verifies, and the verdict says
// how much of the body it does not cover (RFC 6376 §8.2), which
// Authentication-Results reports as dkim=policy (checks.hpp).
TEST(Verify, LengthLimitReportsTheUnsignedPart) {
  const SigningKey k = key_for(Algorithm::ed25519_sha256, "e1");
  const std::string message = crlf({"From: a@example.com", "", "signed part"});
  const std::string signed_message = sign(message, {&k, 1}, 100).header_fields + message;
  const std::string appended = signed_message + "appended\r\n";
  Signature s = find_signatures(appended).at(0);
  s.body_length = std::string("signed part\r\n").size();
  const Verdict v = verify(appended, s, answer_for(k), 100);
  EXPECT_EQ(v.outcome, Outcome::pass);
  EXPECT_EQ(v.unsigned_body_bytes, std::string("appended\r\n").size());
  // l= equal to the body: nothing unsigned.
  const Verdict whole = verify(signed_message, s, answer_for(k), 100);
  EXPECT_EQ(whole.outcome, Outcome::pass);
  EXPECT_EQ(whole.unsigned_body_bytes, 0u);
}

}  // namespace
}  // namespace postern::mailauth::dkim
