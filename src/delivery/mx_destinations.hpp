// Which destination a remote domain's mail goes to when it is delivered by
// MX (no smarthost): its MX host set, so that two domains served by the same
// mail hosts share one per-destination bound and one dead-destination state
// (as the hosts, not the domain names, are what can be slow or down).
//
// Pure: a cache of lookup answers with the time passed in. The queue runner
// looks a domain up (on its lookup threads) before it schedules the first
// job to it, and refreshes an answer older than `ttl` in the background
// while jobs keep going to the known set. A failed lookup makes the domain
// its own destination for `failure_ttl`: the courier looks it up again
// when it delivers and reports the DNS outcome per recipient (a domain that
// does not exist fails, a DNS server that does not answer defers).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace postern::delivery {

struct MxAnswer {
  bool ok = false;                 // hosts holds the domain's mail hosts
  std::vector<std::string> hosts;  // MX targets (or the domain itself, implicit MX)
  std::string error;               // why not, for the log
};

class MxDestinations {
 public:
  using Time = std::chrono::system_clock::time_point;

  explicit MxDestinations(std::chrono::seconds ttl = std::chrono::seconds(300),
                          std::chrono::seconds failure_ttl = std::chrono::seconds(60))
      : ttl_(ttl), failure_ttl_(failure_ttl) {}

  // The destination of `domain` (lowercased), nullopt before its first
  // answer. An expired answer still counts until a fresh one replaces it.
  std::optional<std::string> destination(const std::string& domain) const;
  // True when `domain` has no answer or an expired one.
  bool needs_lookup(const std::string& domain, Time now) const;
  // Records an answer; returns the destination it gives.
  std::string answer(const std::string& domain, const MxAnswer& answer, Time now);

  // "mx:<host>,<host>": the set's hosts lowercased, sorted, without
  // duplicates or trailing dots (preferences and order do not matter).
  static std::string name_of(std::vector<std::string> hosts);

 private:
  struct Entry {
    std::string destination;
    Time expires{};
  };
  std::chrono::seconds ttl_;
  std::chrono::seconds failure_ttl_;
  std::map<std::string, Entry> entries_;
};

}  // namespace postern::delivery
