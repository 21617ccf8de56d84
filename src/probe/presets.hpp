// Known mail providers, so `postern probe gmail` or `postern send --server
// ses:eu-west-1` need no host name. Every entry in presets.cpp cites the
// provider's documentation page it was taken from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probe/probe.hpp"

namespace postern::probe {

struct PresetPort {
  std::uint16_t port = 0;
  TlsChoice tls = TlsChoice::starttls;
};

struct Preset {
  std::string name;                  // "gmail"
  std::vector<std::string> aliases;  // "google", "office365"...
  std::string host;                  // with "{region}" for SES
  std::vector<PresetPort> ports;     // documented ports, preferred first
  std::string documentation;         // the provider's page
  std::string note;                  // e.g. "needs an app password with 2FA"
  bool needs_region = false;
};

// Every preset, for `postern probe --list-presets` and the docs.
const std::vector<Preset>& presets();

// "gmail", "ses:eu-west-1" (region after a colon), aliases, any case. On a
// known name returns the preset with the host expanded; on an unknown name,
// nullopt (`why` empty: treat it as a host name). A known name used wrongly
// (SES without a region, a region that is not a region) gives nullopt and
// the reason in `why`.
std::optional<Preset> find_preset(std::string_view name, std::string& why);

}  // namespace postern::probe
