// Which outgoing messages get which DKIM signatures (SPEC §1.7): the keys of
// the header From: domain, all of them (RSA + Ed25519 gives two
// signatures). Pure: built from loaded keys, fed message bytes and a time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mailauth/dkim/signer.hpp"

namespace postern::mailauth {

struct OutgoingSignature {
  enum class Kind {
    not_signed,  // no key for the author domain
    signed_,     // header_fields holds the signatures to put on top
    refused,     // the message must not be accepted: reason says why
    failed,      // a key failed to sign (OpenSSL error): retry later
  };
  Kind kind = Kind::not_signed;
  std::string header_fields;  // DKIM-Signature fields, CRLF-terminated
  std::string domain;         // d=
  std::string selectors;      // "2026r,2026e" for the log
  std::string reason;
};

class OutgoingSigner {
 public:
  OutgoingSigner() = default;
  explicit OutgoingSigner(std::vector<dkim::SigningKey> keys);

  bool empty() const { return by_domain_.empty(); }
  // True when any key is RSA (signing costs about a millisecond then).
  bool uses_rsa() const { return uses_rsa_; }
  // True when mail from `domain` would be signed.
  bool has_keys_for(std::string_view domain) const;

  // `message` is the message as it will be queued. The author domain is
  // the From: domain; a message without From: is signed for the envelope
  // sender's domain (the submission client owns it), with From still in h=
  // so that none can be added later. Two From: fields are refused when
  // either domain has a key: RFC 5322 §3.6 allows one, and a verifier or
  // mail reader could pick the one we did not sign for.
  OutgoingSignature sign(std::string_view message, std::string_view envelope_sender,
                         std::int64_t now) const;

 private:
  std::map<std::string, std::vector<dkim::SigningKey>, std::less<>> by_domain_;
  bool uses_rsa_ = false;
};

}  // namespace postern::mailauth
