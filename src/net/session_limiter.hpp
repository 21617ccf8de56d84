// Bounds concurrent sessions globally and per client address (SPEC §1.2), so
// one client, or a crowd, cannot exhaust file descriptors and memory.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace postern::net {

class SessionLimiter {
 public:
  SessionLimiter(std::size_t max_total, std::size_t max_per_ip)
      : max_total_(max_total), max_per_ip_(max_per_ip) {}

  enum class Admission { admitted, too_many_total, too_many_from_ip };

  // Every call that returns `admitted` must be paired with release(ip).
  Admission acquire(const std::string& ip);
  void release(const std::string& ip);
  std::size_t active() const;
  // A reload: the new bounds apply to the next acquire(); sessions already
  // admitted stay (over a lowered bound, new ones wait until enough leave).
  void set_limits(std::size_t max_total, std::size_t max_per_ip);

 private:
  std::size_t max_total_;
  std::size_t max_per_ip_;
  mutable std::mutex mu_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_ip_;
};

}  // namespace postern::net
