// The SMTP ports: binds every configured listener and accepts on them,
// handing each connection to one of the event loops (round robin) to be
// served there. Only sockets here; what a session may do is smtp/'s, what
// the server is made of is app/'s.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <atomic>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "net/shared_state.hpp"

namespace postern::net {

class Listeners {
 public:
  // `listeners`, `loops` and `shared` must outlive this object and every
  // session it starts (sessions keep a reference to their listener's
  // settings). Acceptors live on the first loop.
  Listeners(const std::vector<config::ListenerConfig>& listeners,
            const std::vector<std::unique_ptr<asio::io_context>>& loops, SharedState& shared);
  ~Listeners();
  Listeners(const Listeners&) = delete;
  Listeners& operator=(const Listeners&) = delete;

  // Binds and listens on every address. Throws std::runtime_error with an
  // operator-facing hint (port in use, privileged port, no such address).
  void open();
  // Starts accepting on every opened listener.
  void start();
  // Stops accepting; sessions already running go on. From the first loop.
  void close();

 private:
  asio::io_context& pick_loop();
  asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor,
                                    const config::ListenerConfig& l);

  const std::vector<config::ListenerConfig>& configs_;
  const std::vector<std::unique_ptr<asio::io_context>>& loops_;
  SharedState& shared_;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;
  std::atomic<std::size_t> next_loop_{0};
};

}  // namespace postern::net
