// Internationalised domain names: DNS knows only the A-label form
// ("xn--bcher-kva.example" for "bücher.example", RFC 5890/5891).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postern::dns {

// The lowercased A-label form of a domain given in UTF-8 (or already ASCII).
// nullopt when the name is not a valid IDNA2008 name (libidn2, with the
// UTS #46 non-transitional mapping that browsers and mail clients use).
std::optional<std::string> to_a_label(std::string_view domain);

}  // namespace postern::dns
