// What a listener offers in its EHLO reply (RFC 5321 §4.1.1.1), and the two
// decisions behind it that the command handlers must agree with: whether
// STARTTLS and AUTH are on offer right now.
#pragma once

#include <string>
#include <vector>

#include "smtp/server_session.hpp"

namespace postern::smtp {

// STARTTLS (RFC 3207) on starttls and starttls-required listeners, before
// TLS, and only when a certificate could be loaded.
bool starttls_offered(const SessionSettings& settings, bool tls_active);

// AUTH (RFC 4954) only on submission listeners, and only inside TLS unless
// the listener is explicitly insecure (RFC 4954 §4: plaintext mechanisms
// need a protected channel). A starttls-required listener never offers it
// before TLS, insecure or not. Relay listeners never offer it: a relay port
// that takes passwords invites guessing.
bool auth_offered(const SessionSettings& settings, bool tls_active);

// The EHLO reply lines: our hostname first, then the keywords in a fixed
// order.
std::vector<std::string> ehlo_lines(const SessionSettings& settings, bool tls_active);

}  // namespace postern::smtp
