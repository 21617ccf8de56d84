#include "delivery/mx_destinations.hpp"

#include <algorithm>

#include "core/text.hpp"

namespace postern::delivery {

std::optional<std::string> MxDestinations::destination(const std::string& domain) const {
  const auto it = entries_.find(domain);
  if (it == entries_.end()) return std::nullopt;
  return it->second.destination;
}

bool MxDestinations::needs_lookup(const std::string& domain, Time now) const {
  const auto it = entries_.find(domain);
  return it == entries_.end() || it->second.expires <= now;
}

std::string MxDestinations::answer(const std::string& domain, const MxAnswer& answer, Time now) {
  Entry e;
  if (answer.ok && !answer.hosts.empty()) {
    e.destination = name_of(answer.hosts);
    e.expires = now + ttl_;
  } else {
    e.destination = domain;
    e.expires = now + failure_ttl_;
  }
  entries_[domain] = e;
  return e.destination;
}

std::string MxDestinations::name_of(std::vector<std::string> hosts) {
  for (std::string& h : hosts) {
    h = ascii_lower(h);
    while (!h.empty() && h.back() == '.') h.pop_back();
  }
  std::sort(hosts.begin(), hosts.end());
  hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
  std::string out = "mx:";
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (i > 0) out += ',';
    out += hosts[i];
  }
  return out;
}

}  // namespace postern::delivery
