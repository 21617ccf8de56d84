// Signing (RFC 6376 §5, RFC 8463): DKIM-Signature header fields for a
// message, computed from its bytes in one pass over the body whatever the
// number of keys, without copying the message.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mailauth/dkim/key.hpp"
#include "mailauth/dkim/message_view.hpp"

namespace postern::mailauth::dkim {

struct SigningKey {
  std::string domain;    // d=
  std::string selector;  // s=
  PrivateKey key;
};

// The header fields signed when present, each as many times as it occurs
// (RFC 6376 §5.4.1's recommendations plus the mailing-list fields), with
// From listed once more than it occurs (§8.15) so that no From can be added
// to the message without breaking the signature.
inline constexpr std::string_view signed_fields[] = {"from",
                                                     "to",
                                                     "cc",
                                                     "subject",
                                                     "date",
                                                     "message-id",
                                                     "reply-to",
                                                     "in-reply-to",
                                                     "references",
                                                     "mime-version",
                                                     "content-type",
                                                     "content-transfer-encoding",
                                                     "list-id",
                                                     "list-help",
                                                     "list-unsubscribe",
                                                     "list-unsubscribe-post",
                                                     "list-subscribe",
                                                     "list-post",
                                                     "list-owner",
                                                     "list-archive"};

// The h= list for `message`: the fields above that it holds, each as often
// as it holds them, and "from" once more.
std::vector<std::string> fields_to_sign(std::string_view message);
std::vector<std::string> fields_to_sign(const MessageView& view);

struct SignResult {
  // DKIM-Signature fields (each ending in CRLF) to put on top of the
  // message, one per key, in the order of the keys.
  std::string header_fields;
  std::string error;  // a key failed to sign: the message must not go out half-signed
};

// Signs with c=relaxed/relaxed, t=`now` (seconds since the epoch), no l=.
// `message` is the message as it will be stored, CRLF line ends.
SignResult sign(std::string_view message, std::span<const SigningKey> keys, std::int64_t now);
// The same for a message its caller has already parsed (once for the
// author domain and the signature both).
SignResult sign(const MessageView& view, std::span<const SigningKey> keys, std::int64_t now);

}  // namespace postern::mailauth::dkim
