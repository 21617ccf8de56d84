// Durations in the configuration: "300s", "5m", "1h", "1h30m", "5d", or a
// plain integer meaning seconds (SPEC §2 [limits], [delivery]).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace postern::config {

std::optional<std::chrono::seconds> parse_duration(std::string_view text);

}  // namespace postern::config
