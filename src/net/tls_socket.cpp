#include "net/tls_socket.hpp"

#include <openssl/err.h>

#include <asio/error.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl/error.hpp>
#include <asio/use_awaitable.hpp>
#include <cerrno>

namespace postern::net {

TlsSocket::TlsSocket(asio::ip::tcp::socket& socket, SSL_CTX* context) : socket_(socket) {
  std::error_code ec;
  socket_.non_blocking(true, ec);
  if (ec) return;
  ssl_ = SSL_new(context);
  if (ssl_ == nullptr) return;
  if (SSL_set_fd(ssl_, socket_.native_handle()) != 1) {
    SSL_free(ssl_);
    ssl_ = nullptr;
    return;
  }
  SSL_set_accept_state(ssl_);
}

TlsSocket::~TlsSocket() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

asio::awaitable<void> TlsSocket::handshake(std::error_code& ec) {
  co_await drive(Op::handshake, nullptr, 0, ec);
}

asio::awaitable<std::size_t> TlsSocket::read_some(char* data, std::size_t size,
                                                  std::error_code& ec) {
  co_return co_await drive(Op::read, data, size, ec);
}

asio::awaitable<void> TlsSocket::write_all(std::string_view bytes, std::error_code& ec) {
  // SSL_write_ex writes everything or nothing (no partial-write mode), so
  // one call that succeeds covers the whole reply.
  char* data = const_cast<char*>(bytes.data());  // SSL_write_ex does not write to it
  std::size_t done = 0;
  while (done < bytes.size()) {
    const std::size_t n = co_await drive(Op::write, data + done, bytes.size() - done, ec);
    if (ec) co_return;
    done += n;
  }
}

asio::awaitable<void> TlsSocket::shutdown(std::error_code& ec) {
  co_await drive(Op::shutdown, nullptr, 0, ec);
}

asio::awaitable<std::size_t> TlsSocket::drive(Op op, char* data, std::size_t size,
                                              std::error_code& ec) {
  ec.clear();
  if (ssl_ == nullptr) {
    ec = asio::error::bad_descriptor;
    co_return 0;
  }
  for (;;) {
    ERR_clear_error();
    errno = 0;
    std::size_t moved = 0;
    int r = 0;
    switch (op) {
      case Op::handshake:
        r = SSL_do_handshake(ssl_);
        break;
      case Op::read:
        r = SSL_read_ex(ssl_, data, size, &moved);
        break;
      case Op::write:
        r = SSL_write_ex(ssl_, data, size, &moved);
        break;
      case Op::shutdown:
        // 0 means our close_notify went out and the peer's has not come:
        // that is all we wait for.
        r = SSL_shutdown(ssl_) >= 0 ? 1 : -1;
        break;
    }
    if (r == 1) co_return moved;
    const int saved_errno = errno;
    const int error = SSL_get_error(ssl_, r);
    asio::socket_base::wait_type wait{};
    switch (error) {
      case SSL_ERROR_WANT_READ:
        wait = asio::socket_base::wait_read;
        break;
      case SSL_ERROR_WANT_WRITE:
        wait = asio::socket_base::wait_write;
        break;
      case SSL_ERROR_ZERO_RETURN:
        ec = asio::error::eof;
        co_return 0;
      case SSL_ERROR_SYSCALL:
        // No OpenSSL error and no errno: the peer closed the connection
        // without close_notify.
        if (const unsigned long e = ERR_get_error(); e != 0) {
          ec = std::error_code(static_cast<int>(e), asio::error::get_ssl_category());
        } else if (saved_errno != 0) {
          ec = std::error_code(saved_errno, std::system_category());
        } else {
          ec = asio::error::eof;
        }
        // The error queue is per thread and shared by every session on this
        // loop (and by a certificate reload): leave nothing stale in it.
        ERR_clear_error();
        co_return 0;
      default: {
        const unsigned long e = ERR_get_error();
        ec = e != 0 ? std::error_code(static_cast<int>(e), asio::error::get_ssl_category())
                    : std::error_code(asio::ssl::error::unspecified_system_error);
        ERR_clear_error();
        co_return 0;
      }
    }
    co_await socket_.async_wait(wait, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return 0;
  }
}

}  // namespace postern::net
