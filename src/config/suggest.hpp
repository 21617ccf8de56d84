// "Did you mean ...?" for misspelt configuration keys.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace postern::config {

std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, or empty when none is close enough to be
// a plausible typo.
std::string nearest(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace postern::config
