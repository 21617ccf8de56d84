#include "core/types.hpp"

namespace postern {

std::string_view to_string(Role role) {
  switch (role) {
    case Role::relay:
      return "relay";
    case Role::submission:
      return "submission";
  }
  return "?";
}

std::string_view to_string(TlsMode mode) {
  switch (mode) {
    case TlsMode::none:
      return "none";
    case TlsMode::starttls:
      return "starttls";
    case TlsMode::starttls_required:
      return "starttls-required";
    case TlsMode::implicit:
      return "implicit";
  }
  return "?";
}

std::string_view to_string(TlsPolicy policy) {
  switch (policy) {
    case TlsPolicy::none:
      return "none";
    case TlsPolicy::opportunistic:
      return "opportunistic";
    case TlsPolicy::required:
      return "required";
  }
  return "?";
}

std::optional<Role> parse_role(std::string_view text) {
  if (text == "relay") return Role::relay;
  if (text == "submission") return Role::submission;
  return std::nullopt;
}

std::optional<TlsMode> parse_tls_mode(std::string_view text) {
  if (text == "none") return TlsMode::none;
  if (text == "starttls") return TlsMode::starttls;
  if (text == "starttls-required") return TlsMode::starttls_required;
  if (text == "implicit") return TlsMode::implicit;
  return std::nullopt;
}

std::optional<TlsPolicy> parse_tls_policy(std::string_view text) {
  if (text == "none") return TlsPolicy::none;
  if (text == "opportunistic") return TlsPolicy::opportunistic;
  if (text == "required") return TlsPolicy::required;
  return std::nullopt;
}

}  // namespace postern
