// Telling what a port speaks from its first bytes, without a socket: a
// plaintext SMTP greeting ("220 ..."), or a TLS record (RFC 8446 §5.1:
// content type 21 alert or 22 handshake, then legacy version 3.x).
#pragma once

#include <string_view>

namespace postern::probe {

// The first bytes of a TLS record from a server (ServerHello or alert).
bool looks_like_tls_record(std::string_view bytes);

// The start of an SMTP reply line: three digits, then ' ', '-' or CR/LF
// (RFC 5321 §4.2). Enough to say "this port greets in plaintext".
bool looks_like_smtp_reply(std::string_view bytes);

// Whether a failed TLS client handshake means the server answered with
// something that is not TLS at all (OpenSSL reads "220 " as a record with a
// wrong version or an impossible length): the port speaks plaintext first.
bool handshake_error_means_plaintext(std::string_view error);

}  // namespace postern::probe
