// Verifying (RFC 6376 §6, RFC 8463, RFC 8301): pure, like the signer. The
// caller finds the signatures, looks up each one's key record by DNS
// (key_record_name(selector, domain)), and hands the answer back:
//
//   for (const Signature& s : find_signatures(message)) {
//     KeyAnswer a = lookup_txt(s.key_query_name());   // the caller's DNS
//     Verdict v = verify(message, s, a, now);
//   }
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailauth/dkim/canonicalize.hpp"
#include "mailauth/dkim/key.hpp"

namespace postern::mailauth::dkim {

// A DKIM-Signature field, parsed. When `error` is set the signature is
// unusable (permerror, §6.1.1) and the other members hold what could be read.
struct Signature {
  std::string error;
  std::string_view field;  // the whole field in the message
  std::string domain;      // d=
  std::string selector;    // s=
  std::string identity;    // i=, default "@" + d=
  Algorithm algorithm = Algorithm::rsa_sha256;
  Canon header_canon = Canon::simple;
  Canon body_canon = Canon::simple;
  std::vector<std::string> headers;          // h=
  std::string body_hash;                     // bh= decoded
  std::string signature;                     // b= decoded
  std::optional<std::uint64_t> body_length;  // l=
  std::optional<std::int64_t> timestamp;     // t=
  std::optional<std::int64_t> expiration;    // x=
  std::size_t b_begin = 0, b_end = 0;        // the b= value's place in `field`

  std::string key_query_name() const;
};

// Every DKIM-Signature field of the message, top first (§6.1.1 checks
// done: required tags, v=1, known algorithm and canonicalisation, From in
// h=, i= within d=, x= not before t=).
std::vector<Signature> find_signatures(std::string_view message);

// What the key lookup gave.
struct KeyAnswer {
  enum class Status { found, no_record, temporary_failure };
  Status status = Status::no_record;
  // The TXT records at the name, each one's strings concatenated.
  std::vector<std::string> records;
};

// Results as RFC 8601 §2.7.1 names them.
enum class Outcome { pass, fail, neutral, temperror, permerror };
std::string_view to_string(Outcome o);

struct Verdict {
  Outcome outcome = Outcome::permerror;
  std::string reason;    // plain words for anything but pass
  bool testing = false;  // the key record says t=y
  int key_bits = 0;
  // Canonical body octets after the l= count (RFC 6376 §8.2): content the
  // signature does not cover. Non-zero means the signature must not be
  // reported as a pass for the message (Authentication-Results: policy).
  std::uint64_t unsigned_body_bytes = 0;
};

// Checks one signature. `now` (seconds since the epoch) is compared with x=.
Verdict verify(std::string_view message, const Signature& signature, const KeyAnswer& key,
               std::int64_t now);

}  // namespace postern::mailauth::dkim
