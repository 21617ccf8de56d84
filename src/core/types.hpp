// Vocabulary shared by every module: what a listener is for and how it
// speaks TLS. Enum values are spelled like the configuration strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postern {

enum class Role { relay, submission };

enum class TlsMode { none, starttls, starttls_required, implicit };

std::string_view to_string(Role role);
std::string_view to_string(TlsMode mode);
std::optional<Role> parse_role(std::string_view text);
std::optional<TlsMode> parse_tls_mode(std::string_view text);

}  // namespace postern
