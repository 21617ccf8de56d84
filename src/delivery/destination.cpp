#include "delivery/destination.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace postern::delivery {

std::string destination_for(std::string_view address, const std::vector<std::string>& local_domains,
                            bool smarthost) {
  const std::size_t at = address.rfind('@');
  std::string domain(at == std::string_view::npos ? std::string_view() : address.substr(at + 1));
  for (char& c : domain) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (std::find(local_domains.begin(), local_domains.end(), domain) != local_domains.end()) {
    return kLocalDestination;
  }
  return smarthost ? kSmarthostDestination : domain;
}

std::string format_destinations(const std::vector<DestinationStatus>& destinations,
                                std::chrono::system_clock::time_point now) {
  std::string out;
  for (const DestinationStatus& d : destinations) {
    if (!out.empty()) out += "; ";
    out +=
        fmt::format("{} in_flight={}/{} queued={}", d.destination, d.in_flight, d.limit, d.queued);
    if (d.dead) {
      const auto left = std::chrono::duration_cast<std::chrono::seconds>(d.retry_at - now);
      std::string reason = d.reason.substr(0, 120);
      for (char& c : reason) {
        if (c == '"' || c == ';' || static_cast<unsigned char>(c) < 0x20) c = ' ';
      }
      out += fmt::format(" dead retry_in={}s reason=\"{}\"", std::max<long long>(0, left.count()),
                         reason);
    }
  }
  return out.empty() ? "idle" : out;
}

}  // namespace postern::delivery
