// The configuration the section tests start from (delivery, dkim, inbound):
// lines 1-8, one relay listener, so a section header appended to it is on
// line 9 and the section's first key on line 10.
#pragma once

#include <string>
#include <string_view>

#include "config/config.hpp"

namespace postern::config::testing {

inline constexpr const char* kBase = R"(hostname = "mail.example.com"
data_dir = "/var/lib/postern"
local_domains = ["example.com"]

[[listener]]
address = "0.0.0.0:25"
role = "relay"
tls = "starttls"
)";

// `base` then "[section]" then `body`, loaded as /srv/conf/postern.toml
// (relative paths resolve against /srv/conf).
inline LoadResult load_section(std::string_view section, const std::string& body,
                               const char* base = kBase) {
  return load_string(std::string(base) + "[" + std::string(section) + "]\n" + body,
                     "/srv/conf/postern.toml", "/srv/conf");
}

}  // namespace postern::config::testing
