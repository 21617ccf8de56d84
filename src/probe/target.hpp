// What a user types after `postern probe` (or `postern send --server`):
// "host", "host:port", "[v6]:port" or a bare IP literal. Pure, unit-tested.
// Provider presets ("gmail", "ses:eu-west-1") are looked up by the caller
// on `host` first (probe::find_preset).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::probe {

struct Target {
  std::string host;
  std::optional<std::uint16_t> port;  // none: scan the submission ports
};

// nullopt with `why` set when the text is unusable (an empty host, a bad
// port, a colon that is neither a port nor inside an IPv6 literal).
std::optional<Target> parse_target(std::string_view text, std::string& why);

// "10", "10s", "2.5s", "500ms", "1m": a timeout of at least 1 ms.
std::optional<std::chrono::milliseconds> parse_timeout(std::string_view text);

}  // namespace postern::probe
