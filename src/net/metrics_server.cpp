#include "net/metrics_server.hpp"

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <stdexcept>

#include "metrics/http_request.hpp"
#include "obs/log.hpp"

namespace postern::net {
namespace {

using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

// A scrape is one small request; a client that takes longer to send it, or
// to read the answer, is not Prometheus.
constexpr std::chrono::seconds kRequestTimeout{5};
constexpr std::chrono::seconds kWriteTimeout{10};
// Prometheus scrapes one at a time per target; a few at once leaves room
// for a second server and a person with curl, and no more.
constexpr int kMaxConnections = 8;

}  // namespace

struct MetricsServer::Impl : std::enable_shared_from_this<MetricsServer::Impl> {
  asio::io_context& loop;
  std::string host;
  std::uint16_t port;
  metrics::Registry& registry;
  tcp::acceptor acceptor;
  std::atomic<int> connections{0};

  Impl(asio::io_context& l, std::string h, std::uint16_t p, metrics::Registry& r)
      : loop(l), host(std::move(h)), port(p), registry(r), acceptor(l) {}

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    for (;;) {
      std::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        asio::steady_timer pause(loop, std::chrono::milliseconds(100));
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      if (connections.load() >= kMaxConnections) continue;  // closed by going out of scope
      ++connections;
      asio::co_spawn(loop, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    auto self = shared_from_this();
    asio::steady_timer timer(loop);
    metrics::HttpRequestParser parser;
    std::array<char, 2048> buf;
    timer.expires_after(kRequestTimeout);
    while (parser.state() == metrics::HttpRequestParser::State::incomplete) {
      std::error_code ec;
      auto result =
          co_await (socket.async_read_some(asio::buffer(buf),
                                           asio::redirect_error(asio::use_awaitable, ec)) ||
                    timer.async_wait(asio::use_awaitable));
      if (result.index() == 1 || ec) break;  // timed out or closed: answer 400 or nothing
      parser.feed(std::string_view(buf.data(), std::get<0>(result)));
    }
    if (parser.state() != metrics::HttpRequestParser::State::incomplete) {
      const std::string answer =
          metrics::serialize(metrics::route(parser, [this] { return registry.render(); }));
      timer.expires_after(kWriteTimeout);
      std::error_code ec;
      co_await (asio::async_write(socket, asio::buffer(answer),
                                  asio::redirect_error(asio::use_awaitable, ec)) ||
                timer.async_wait(asio::use_awaitable));
    }
    std::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    --connections;
  }
};

MetricsServer::MetricsServer(asio::io_context& loop, std::string host, std::uint16_t port,
                             metrics::Registry& registry)
    : impl_(std::make_shared<Impl>(loop, std::move(host), port, registry)) {}

MetricsServer::~MetricsServer() {
  close();
}

void MetricsServer::start() {
  std::error_code ec;
  const auto address = asio::ip::make_address(impl_->host, ec);
  if (ec) throw std::runtime_error("[metrics] address: bad address " + impl_->host);
  const tcp::endpoint endpoint(address, impl_->port);
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && address.is_v6()) a.set_option(asio::ip::v6_only(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(16, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on [metrics] address " +
                             endpoint.address().to_string() + ":" + std::to_string(impl_->port) +
                             ": " + ec.message());
  }
  obs::event("listen", "metrics={}:{}", impl_->host, impl_->port);
  asio::co_spawn(impl_->loop, impl_->accept_loop(), asio::detached);
}

void MetricsServer::close() {
  std::error_code ec;
  if (impl_ && impl_->acceptor.is_open()) impl_->acceptor.close(ec);
}

}  // namespace postern::net
