#include "net/listeners.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <stdexcept>

#include "net/connection.hpp"
#include "obs/log.hpp"

namespace postern::net {
namespace {

using asio::ip::tcp;

std::string bind_hint(const std::error_code& ec, std::uint16_t port) {
  if (ec == asio::error::address_in_use) {
    return " (another program listens there: find it with `ss -ltnp 'sport = :" +
           std::to_string(port) + "'`)";
  }
  if (ec == asio::error::access_denied && port < 1024) {
    return " (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
  }
  if (ec == std::errc::address_not_available) {
    return " (no interface on this machine has that address)";
  }
  return "";
}

}  // namespace

Listeners::Listeners(const std::vector<config::ListenerConfig>& listeners,
                     const std::vector<std::unique_ptr<asio::io_context>>& loops,
                     SharedState& shared)
    : configs_(listeners), loops_(loops), shared_(shared) {}

Listeners::~Listeners() = default;

asio::io_context& Listeners::pick_loop() {
  return *loops_[next_loop_.fetch_add(1, std::memory_order_relaxed) % loops_.size()];
}

asio::awaitable<void> Listeners::accept_loop(tcp::acceptor& acceptor,
                                             const config::ListenerConfig& l) {
  for (;;) {
    asio::io_context& loop = pick_loop();
    std::error_code ec;
    tcp::socket socket =
        co_await acceptor.async_accept(loop, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors or similar: say so, pause briefly, keep going.
      obs::error("accept", "listener={} error=\"{}\"", l.address, ec.message());
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    asio::co_spawn(loop, serve_connection(std::move(socket), l, shared_), asio::detached);
  }
}

void Listeners::open() {
  for (const auto& l : configs_) {
    std::error_code ec;
    const auto address = asio::ip::make_address(l.host, ec);
    if (ec) throw std::runtime_error("listener " + l.address + ": bad address " + l.host);
    tcp::endpoint endpoint(address, l.port);
    auto acceptor = std::make_unique<tcp::acceptor>(*loops_[0]);
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && address.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw std::runtime_error("cannot listen on " + l.address + ": " + ec.message() +
                               bind_hint(ec, l.port));
    }
    obs::event("listen", "address={} role={} tls={}", l.address, to_string(l.role),
               to_string(l.tls));
    acceptors_.push_back(std::move(acceptor));
  }
}

void Listeners::start() {
  for (std::size_t i = 0; i < acceptors_.size(); ++i) {
    asio::co_spawn(*loops_[0], accept_loop(*acceptors_[i], configs_[i]), asio::detached);
  }
}

void Listeners::close() {
  for (auto& a : acceptors_) a->close();
}

}  // namespace postern::net
