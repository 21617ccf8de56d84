#include "net/session_limiter.hpp"

#include <arpa/inet.h>

#include <asio/ip/address.hpp>

namespace postern::net {

std::string SessionLimiter::network_of(const std::string& ip) {
  std::error_code ec;
  const auto addr = asio::ip::make_address(ip, ec);
  if (ec) return ip;
  if (addr.is_v4()) {
    auto bytes = addr.to_v4().to_bytes();
    bytes[3] = 0;
    return asio::ip::address_v4(bytes).to_string() + "/24";
  }
  auto bytes = addr.to_v6().to_bytes();
  for (std::size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
  return asio::ip::address_v6(bytes).to_string() + "/64";
}

std::string SessionLimiter::network_key(const std::string& ip) {
  unsigned char b[16];
  if (inet_pton(AF_INET, ip.c_str(), b) == 1) {
    return std::string(1, '4') + std::string(reinterpret_cast<const char*>(b), 3);
  }
  if (inet_pton(AF_INET6, ip.c_str(), b) == 1) {
    return std::string(1, '6') + std::string(reinterpret_cast<const char*>(b), 8);
  }
  // Anything else (a scope id, not an address): the text form, which
  // cannot collide with the binary keys above (those start with 4 or 6
  // followed by raw octets, the text forms with "/24" or "/64" at the end).
  return network_of(ip);
}

SessionLimiter::Admission SessionLimiter::acquire(const std::string& ip) {
  const std::string net = network_key(ip);
  std::lock_guard lock(mu_);
  if (total_ >= max_total_) return Admission::too_many_total;
  auto ip_it = per_ip_.find(ip);
  if (ip_it != per_ip_.end() && ip_it->second >= max_per_ip_) return Admission::too_many_from_ip;
  if (max_per_ip_ == 0) return Admission::too_many_from_ip;
  auto net_it = per_network_.find(net);
  const std::size_t net_max = max_per_ip_ * kNetworkFactor;
  if (net_it != per_network_.end() && net_it->second >= net_max) {
    return Admission::too_many_from_network;
  }
  ++per_ip_[ip];
  ++per_network_[net];
  ++total_;
  return Admission::admitted;
}

void SessionLimiter::release(const std::string& ip) {
  const std::string net = network_key(ip);
  std::lock_guard lock(mu_);
  auto it = per_ip_.find(ip);
  if (it == per_ip_.end()) return;
  if (--it->second == 0) per_ip_.erase(it);
  if (auto n = per_network_.find(net); n != per_network_.end() && --n->second == 0) {
    per_network_.erase(n);
  }
  --total_;
}

void SessionLimiter::set_limits(std::size_t max_total, std::size_t max_per_ip) {
  std::lock_guard lock(mu_);
  max_total_ = max_total;
  max_per_ip_ = max_per_ip;
}

std::size_t SessionLimiter::max_per_network() const {
  std::lock_guard lock(mu_);
  return max_per_ip_ * kNetworkFactor;
}

std::size_t SessionLimiter::active() const {
  std::lock_guard lock(mu_);
  return total_;
}

}  // namespace postern::net
