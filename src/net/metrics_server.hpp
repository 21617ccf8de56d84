// The metrics endpoint ([metrics] address, SPEC §1.11): a listener that
// serves the Prometheus exposition of one registry at /metrics and nothing
// else. The HTTP rules live in metrics/http_request (pure); this only moves
// bytes, with a deadline per connection and a bound on connections at once.
#pragma once

#include <asio/io_context.hpp>
#include <memory>
#include <string>

#include "metrics/registry.hpp"

namespace postern::net {

class MetricsServer {
 public:
  MetricsServer(asio::io_context& loop, std::string host, std::uint16_t port,
                metrics::Registry& registry);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds and starts accepting; throws std::runtime_error when the address
  // cannot be bound.
  void start();
  // Stops accepting; scrapes in progress finish with the loop.
  void close();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace postern::net
