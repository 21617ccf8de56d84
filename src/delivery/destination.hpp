// The destination a recipient's delivery job goes to (scheduler.hpp): the
// one place that decides it, shared by the queue runner and `postern queue
// list`, so that what the operator sees is what the scheduler counts.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/scheduler.hpp"

namespace postern::delivery {

// "local" for a domain in `local_domains` (lowercased), "smarthost" when
// remote mail goes through one, else the recipient domain, lowercased.
std::string destination_for(std::string_view address, const std::vector<std::string>& local_domains,
                            bool smarthost);

// One line for the control socket's STATUS (`postern queue list` prints
// it): "<destination> in_flight=<n>/<limit> queued=<n>[ dead retry_in=<s>s
// reason=\"...\"]", destinations separated by "; ", or "idle".
std::string format_destinations(
    const std::vector<DestinationStatus>& destinations,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace postern::delivery
