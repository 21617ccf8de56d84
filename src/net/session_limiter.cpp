#include "net/session_limiter.hpp"

namespace postern::net {

SessionLimiter::Admission SessionLimiter::acquire(const std::string& ip) {
  std::lock_guard lock(mu_);
  if (total_ >= max_total_) return Admission::too_many_total;
  auto& n = per_ip_[ip];
  if (n >= max_per_ip_) {
    if (n == 0) per_ip_.erase(ip);
    return Admission::too_many_from_ip;
  }
  ++n;
  ++total_;
  return Admission::admitted;
}

void SessionLimiter::release(const std::string& ip) {
  std::lock_guard lock(mu_);
  auto it = per_ip_.find(ip);
  if (it == per_ip_.end()) return;
  if (--it->second == 0) per_ip_.erase(it);
  --total_;
}

void SessionLimiter::set_limits(std::size_t max_total, std::size_t max_per_ip) {
  std::lock_guard lock(mu_);
  max_total_ = max_total;
  max_per_ip_ = max_per_ip;
}

std::size_t SessionLimiter::active() const {
  std::lock_guard lock(mu_);
  return total_;
}

}  // namespace postern::net
