// The thin driver of one SMTP connection: it owns the socket, the TLS stream
// and the timers, feeds bytes and results to the pure smtp::ServerSession and
// carries out the actions the session answers with.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "config/config.hpp"
#include "net/shared_state.hpp"

namespace postern::net {

asio::awaitable<void> serve_connection(asio::ip::tcp::socket socket,
                                       const config::ListenerConfig& listener, SharedState& shared);

}  // namespace postern::net
