// The Received trace header the server puts on every message it accepts
// (RFC 5321 §4.4), with the protocol names of RFC 3848.
#pragma once

#include <chrono>
#include <string>

namespace postern::message {

struct ReceivedInfo {
  std::string helo;  // what the client said in EHLO/HELO
  std::string client_ip;
  std::string hostname;     // ours
  std::string protocol;     // SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA (RFC 3848)
  std::string id;           // queue id (the session id when none is known)
  std::string session;      // session id, in the comment; empty: left out
  std::string listener;     // "127.0.0.1:2587"
  std::string role;         // "submission"
  std::string tls_version;  // empty without TLS
  std::string tls_cipher;
  std::string auth_user;      // empty when not authenticated
  std::string for_recipient;  // only when there is exactly one recipient
  std::chrono::system_clock::time_point when{};
};

// RFC 3848 §2-4: SMTP for HELO, ESMTP for EHLO, "S" when TLS protects the
// session, "A" when the client authenticated. HELO sessions stay "SMTP"
// (RFC 3848 defines no TLS or AUTH variants of it).
std::string protocol_name(bool esmtp, bool tls, bool authenticated);

// A complete "Received: ..." header ending in CRLF:
//   Received: from <helo> ([<ip>])
//   	by <hostname> (postern) with <protocol> id <id>
//   	(listener <listener> role <role>[ session <s>][; <tls> cipher <cipher>]
//   	[; authenticated user <u>])
//   	for <rcpt>; <date>
// Client-supplied text is cleaned of control characters and of characters
// that would end a comment early, and bounded, so no line can exceed the
// 998-octet limit of RFC 5322 §2.1.1 whatever the client sent.
std::string received_header(const ReceivedInfo& info);

}  // namespace postern::message
