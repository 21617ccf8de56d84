// Bounds concurrent sessions globally, per client address (SPEC §1.2) and
// per client network, so one client, or a crowd, cannot exhaust file
// descriptors and memory. The network is the /24 of an IPv4 address and the
// /64 of an IPv6 one (docs/limits.md, "Connections per network"): one host
// on IPv6 commonly holds a whole /64, and a rented IPv4 block is a /24, so
// a bound per address alone is a bound per address *changed*.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace postern::net {

class SessionLimiter {
 public:
  // Sessions from one network may be this many times max_per_ip: a few
  // hosts behind one NAT or in one office /24 still get on.
  static constexpr std::size_t kNetworkFactor = 4;

  SessionLimiter(std::size_t max_total, std::size_t max_per_ip)
      : max_total_(max_total), max_per_ip_(max_per_ip) {}

  enum class Admission { admitted, too_many_total, too_many_from_ip, too_many_from_network };

  // Every call that returns `admitted` must be paired with release(ip).
  Admission acquire(const std::string& ip);
  void release(const std::string& ip);
  std::size_t active() const;
  // A reload: the new bounds apply to the next acquire(); sessions already
  // admitted stay (over a lowered bound, new ones wait until enough leave).
  void set_limits(std::size_t max_total, std::size_t max_per_ip);
  std::size_t max_per_network() const;

  // "192.0.2.0/24", "2001:db8:1:2::/64"; text that is no address is its
  // own network.
  static std::string network_of(const std::string& ip);

 private:
  // The key per_network_ counts under: the same network as network_of,
  // as its raw prefix octets (a family tag and 3 or 8 octets, held in the
  // string's own buffer). Formatting the text form cost about 5,000
  // instructions per session, twice (acquire and release), on the accept
  // path.
  static std::string network_key(const std::string& ip);

  std::size_t max_total_;
  std::size_t max_per_ip_;
  mutable std::mutex mu_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_ip_;
  std::unordered_map<std::string, std::size_t> per_network_;
};

}  // namespace postern::net
