// Server-side TLS on a connected TCP socket, with OpenSSL reading and
// writing the socket itself (SSL_set_fd) and asio only telling us when the
// socket is ready.
//
// Why not asio::ssl::stream: it keeps two 17 KiB buffers of its own per
// stream and a BIO pair with two more, which SSL_MODE_RELEASE_BUFFERS
// cannot free, so an idle TLS session cost ~78 KiB. Here the only buffers
// are OpenSSL's record buffers, which that mode releases while the session
// waits (bench/README.md: idle sessions).
//
// Operations are not cancelled by timers of their own: the connection's
// watchdog cancels the socket's pending wait, and the operation then
// completes with asio::error::operation_aborted. The TLS session is not
// usable after that, nor after any other error; only close it.
#pragma once

#include <openssl/ssl.h>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <string_view>
#include <system_error>

namespace postern::net {

class TlsSocket {
 public:
  // The socket must stay alive and open for the TlsSocket's lifetime.
  // ok() is false when OpenSSL could not set up the session.
  TlsSocket(asio::ip::tcp::socket& socket, SSL_CTX* context);
  ~TlsSocket();
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  bool ok() const { return ssl_ != nullptr; }
  SSL* native_handle() const { return ssl_; }

  // The server side of the handshake. On failure `ec` carries OpenSSL's
  // reason ("wrong version number", "http request", ...).
  asio::awaitable<void> handshake(std::error_code& ec);
  // Reads what is available (at least one octet); asio::error::eof when
  // the peer closed the TLS session or the connection.
  asio::awaitable<std::size_t> read_some(char* data, std::size_t size, std::error_code& ec);
  asio::awaitable<void> write_all(std::string_view bytes, std::error_code& ec);
  // Sends close_notify; does not wait for the peer's.
  asio::awaitable<void> shutdown(std::error_code& ec);

 private:
  enum class Op { handshake, read, write, shutdown };
  // Repeats one OpenSSL call, waiting for the socket whenever OpenSSL wants
  // to read or write, until it succeeds or fails. Returns the octets moved.
  asio::awaitable<std::size_t> drive(Op op, char* data, std::size_t size, std::error_code& ec);

  asio::ip::tcp::socket& socket_;
  SSL* ssl_ = nullptr;
};

}  // namespace postern::net
