// The server's metrics by name, in one place (docs/service.md lists them):
// each hook is one call where the event happens. Labels come from the
// configuration (listener addresses) or from fixed words, never from what a
// client sends, so the number of series stays bounded.
#pragma once

#include <string>
#include <string_view>

#include "core/reply.hpp"
#include "metrics/registry.hpp"

namespace postern::metrics {

void session_opened(std::string_view listener, std::string_view role);
void session_closed(std::string_view listener);
// reason: "max_sessions", "max_sessions_per_ip", "max_sessions_per_network"
void session_refused(std::string_view reason);
void tls_handshake(std::string_view listener, bool ok);
void auth_result(bool ok);
// How a users-file password was checked: "hash" (argon2id on the pool) or
// "cache" (the credential cache, SPEC §1.10).
void auth_password_check(std::string_view how);
void message_accepted(std::string_view listener);
void message_rejected(std::string_view reason);
void delivery_result(std::string_view result, bool remote);  // delivered, deferred, bounced
void delivery_latency(bool remote, double seconds);
void rate_limit_hit(std::string_view limit);

// Pure: the reason label of a refusal, from the reply's basic and enhanced
// codes (RFC 3463); "protocol" for syntax and sequence errors, "other" for
// anything not named here.
std::string reject_reason(const Reply& reply);

}  // namespace postern::metrics
