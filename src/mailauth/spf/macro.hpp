// SPF macro strings (RFC 7208 §7): checking their syntax and expanding them.
// Pure: the %{p} value is computed by the evaluator (it needs lookups) and
// handed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mailauth/spf/ip_address.hpp"

namespace postern::mailauth::spf {

struct MacroValues {
  std::string sender;                      // %{s}: local-part@domain
  std::string local_part;                  // %{l}
  std::string sender_domain;               // %{o}
  std::string domain;                      // %{d}: the domain being checked now
  IpAddress ip;                            // %{i}, %{c}, %{v}
  std::string validated_name = "unknown";  // %{p}
  std::string helo;                        // %{h}
  std::string receiver = "unknown";        // %{r}
  std::int64_t now = 0;                    // %{t}
};

// Where a macro string appears: c, r and t are allowed only in explanation
// text (RFC 7208 §7.3), which also allows spaces.
enum class MacroUse { domain_spec, explanation };

// nullopt (and `error`) on a syntax error, which makes the record a
// permerror (RFC 7208 §7.1).
std::optional<std::string> expand_macros(std::string_view text, const MacroValues& values,
                                         MacroUse use, std::string& error);

// Syntax only, for parsing a record before evaluating it.
bool valid_macro_string(std::string_view text, MacroUse use, std::string& error);

// Whether the text uses %{p}, which costs lookups to compute.
bool uses_p_macro(std::string_view text);

// RFC 7208 §7.3: a domain name over 253 octets after expansion loses
// labels from the left until it fits.
std::string truncate_domain(std::string name);

}  // namespace postern::mailauth::spf
