// The pieces of the client protocol that every SMTP client of ours shares:
// reading the EHLO reply and building the commands whose parameters depend
// on it. ClientSession (delivery) and `postern probe` (which stops and
// explains at every step) both build their dialogue from these, so the two
// cannot disagree on what a server offered or on how MAIL FROM is spelled.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "smtp/client_session.hpp"

namespace postern::smtp::client {

// RFC 5321 §4.1.1.1: the first line greets, each further line is one
// keyword with optional parameters. Keywords and mechanisms are uppercased.
Capabilities parse_capabilities(const ServerReply& reply);

// The server named `mechanism` (uppercase) in its AUTH line (RFC 4954 §3).
bool offers(const Capabilities& caps, std::string_view mechanism);

// What a MAIL FROM may carry; each parameter goes out only when the server
// announced its extension.
struct MailParameters {
  std::optional<std::size_t> size;  // SIZE= (RFC 1870 §3) when known
  bool eight_bit = false;           // BODY=8BITMIME (RFC 6152)
  bool smtputf8 = false;            // SMTPUTF8 (RFC 6531 §3.4): the caller decides
  std::string dsn_ret;              // RET= (RFC 3461 §4.3)
  std::string dsn_envid;            // ENVID= (RFC 3461 §4.4)
};

// "MAIL FROM:<sender> SIZE=... BODY=8BITMIME ...", without CRLF.
std::string mail_from_command(std::string_view sender, const MailParameters& params,
                              const Capabilities& caps);

// "RCPT TO:<address> NOTIFY=... ORCPT=...", without CRLF.
std::string rcpt_to_command(const Recipient& recipient, const Capabilities& caps);

// "AUTH PLAIN <initial response>" (RFC 4954 §4 initial response; RFC 4616
// §2: empty authzid NUL authcid NUL passwd), without CRLF.
std::string auth_plain_command(std::string_view user, std::string_view password);

}  // namespace postern::smtp::client
