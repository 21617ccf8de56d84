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

// A provider's host in another region ("mailgun:eu", "zoho:in").
struct RegionalHost {
  std::string region;
  std::string host;
};

struct Preset {
  std::string name;                  // "gmail"
  std::vector<std::string> aliases;  // "google", "office365"...
  std::string host;                  // with "{region}" for SES
  std::vector<PresetPort> ports;     // documented ports, preferred first
  std::string documentation;         // the provider's page
  std::string note;                  // e.g. "needs an app password with 2FA"
  bool needs_region = false;
  // Optional regions with their own host; after find_preset, `region` says
  // which one was chosen (empty: the default host).
  std::vector<RegionalHost> regional_hosts;
  std::string region;
};

// Every preset, for `postern probe --list-presets` and the docs.
const std::vector<Preset>& presets();

// "gmail", "ses:eu-west-1" or "mailgun:eu" (region after a colon),
// "gmail:465" or "ses:eu-west-1:2587" (that port only), aliases, any case. On a
// known name returns the preset with the host expanded; on an unknown name,
// nullopt (`why` empty: treat it as a host name). A known name used wrongly
// (SES without a region, a region that is not a region) gives nullopt and
// the reason in `why`.
std::optional<Preset> find_preset(std::string_view name, std::string& why);

// Whether `region` looks like an AWS region name ("eu-west-1",
// "us-gov-west-1"): letters, dash, letters, dash, a number.
bool valid_aws_region(std::string_view region);

}  // namespace postern::probe
