// Vocabulary shared by every module: what a listener is for, how a port
// speaks TLS, and how our client insists on it. Enum values are spelled
// like the configuration strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postern {

enum class Role { relay, submission };

// How a port speaks TLS: a listener's `tls`, and the smarthost's
// `smarthost_tls` (none, starttls or implicit; towards a smarthost our
// client always requires the TLS it names).
enum class TlsMode { none, starttls, starttls_required, implicit };

// How much our SMTP/LMTP client insists on TLS: [delivery] tls and
// [delivery.tls_policy] (opportunistic or required); none for LMTP and a
// smarthost_tls = "none" hub.
enum class TlsPolicy {
  none,           // never STARTTLS (internal relay hub, smarthost_tls = "none")
  opportunistic,  // STARTTLS whenever offered (SPEC §1.5)
  required,       // never send mail or credentials without TLS
};

std::string_view to_string(Role role);
std::string_view to_string(TlsMode mode);
std::string_view to_string(TlsPolicy policy);
std::optional<Role> parse_role(std::string_view text);
std::optional<TlsMode> parse_tls_mode(std::string_view text);
std::optional<TlsPolicy> parse_tls_policy(std::string_view text);

}  // namespace postern
