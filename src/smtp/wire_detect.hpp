// Telling what the other end speaks from its first bytes, without a socket.
// One pure detector for both directions: the server recognises implicit TLS
// sent to a plaintext or STARTTLS port (STYLE.md habit 14), and `postern
// probe` recognises a TLS port it greeted in plaintext, or a plaintext port
// it greeted with TLS. A TLS record starts with its content type (21 alert,
// 22 handshake) and the legacy version 3.0 to 3.4 (RFC 8446 §5.1).
#pragma once

#include <string_view>

namespace postern::smtp {

// True when `bytes` begin like a TLS handshake record (content type 22):
// a ClientHello from a client, or a ServerHello from a server.
bool looks_like_tls_client_hello(std::string_view bytes);

// A TLS handshake or alert record: what a TLS server answers with.
bool looks_like_tls_record(std::string_view bytes);

// The server's question on the first bytes of a plaintext connection:
// enough to say "this is a ClientHello", "this is not", or wait for more
// (fewer than the three header bytes that could still be one).
enum class FirstBytes { need_more, tls, other };
FirstBytes tls_client_hello_start(std::string_view bytes);

// The start of an SMTP reply line: three digits, then ' ', '-' or CR/LF
// (RFC 5321 §4.2). Enough to say "this port greets in plaintext".
bool looks_like_smtp_reply(std::string_view bytes);

// Whether a failed TLS client handshake means the server answered with
// something that is not TLS at all (OpenSSL reads "220 " as a record with a
// wrong version or an impossible length): the port speaks plaintext first.
bool handshake_error_means_plaintext(std::string_view error);

}  // namespace postern::smtp
