// Durations in the configuration: "300s", "5m", "1h", "1h30m", or a plain
// integer meaning seconds (SPEC §2 [limits]).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace postern::config {

std::optional<std::chrono::seconds> parse_duration(std::string_view text);

}  // namespace postern::config
