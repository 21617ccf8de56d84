// What the inbound checks of every connection share (SPEC §1.8): the DNS
// they ask (the server's libunbound resolver behind inbound::AsyncDns) and
// a small pool for DKIM verification of large messages, so that hashing a
// 30 MB body does not hold an event loop (net/inbound_checks.cpp decides).
#pragma once

#include <asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "inbound/async_dns.hpp"

namespace postern::net {

class InboundService {
 public:
  // `to_a_label`: IDN From: domains to their A-label form (dns::to_a_label).
  using ToALabel = std::function<std::optional<std::string>(std::string_view)>;
  InboundService(std::shared_ptr<inbound::AsyncDns> dns, ToALabel to_a_label, std::size_t threads)
      : dns_(std::move(dns)), to_a_label_(std::move(to_a_label)), pool_(threads) {}
  ~InboundService() { pool_.join(); }
  InboundService(const InboundService&) = delete;
  InboundService& operator=(const InboundService&) = delete;

  inbound::AsyncDns& dns() { return *dns_; }
  asio::thread_pool& pool() { return pool_; }
  const ToALabel& to_a_label() const { return to_a_label_; }

 private:
  std::shared_ptr<inbound::AsyncDns> dns_;
  ToALabel to_a_label_;
  asio::thread_pool pool_;
};

}  // namespace postern::net
