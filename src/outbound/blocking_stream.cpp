#include "outbound/blocking_stream.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace postern::outbound {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(std::min<long long>(left.count(), 1000LL * 3600));
}

bool is_ip(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

std::string openssl_error_text() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::unique_ptr<BlockingStream> BlockingStream::connect(const std::string& ip, std::uint16_t port,
                                                        std::chrono::milliseconds timeout,
                                                        ConnectError& kind, std::string& error,
                                                        int cancel_fd) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    kind = ConnectError::other;
    error = "not an IP address: " + ip;
    return nullptr;
  }
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    kind = ConnectError::other;
    error = std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<BlockingStream> stream(new BlockingStream(fd, cancel_fd));
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    if (errno != EINPROGRESS) {
      kind = errno == ECONNREFUSED ? ConnectError::refused : ConnectError::other;
      error = std::strerror(errno);
      return nullptr;
    }
    const IoStatus st = stream->wait(true, Clock::now() + timeout);
    if (st == IoStatus::timeout) {
      kind = ConnectError::timeout;
      error = "connect timed out after " + std::to_string(timeout.count() / 1000) + "s";
      return nullptr;
    }
    int so_error = 0;
    socklen_t so_len = sizeof so_error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len);
    if (st != IoStatus::ok || so_error != 0) {
      kind = so_error == ECONNREFUSED ? ConnectError::refused : ConnectError::other;
      error = so_error ? std::strerror(so_error) : "connect failed";
      return nullptr;
    }
  }
  kind = ConnectError::none;
  return stream;
}

std::unique_ptr<BlockingStream> BlockingStream::connect_unix(const std::string& path,
                                                             std::chrono::milliseconds timeout,
                                                             ConnectError& kind, std::string& error,
                                                             int cancel_fd) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    kind = ConnectError::other;
    error = "socket path too long: " + path;
    return nullptr;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    kind = ConnectError::other;
    error = std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<BlockingStream> stream(new BlockingStream(fd, cancel_fd));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    if (err != EINPROGRESS && err != EAGAIN) {
      kind = err == ECONNREFUSED || err == ENOENT ? ConnectError::refused : ConnectError::other;
      error = path + ": " + std::strerror(err);
      return nullptr;
    }
    // The listener's backlog is full: wait for room, within the deadline.
    const IoStatus st = stream->wait(true, Clock::now() + timeout);
    int so_error = 0;
    socklen_t so_len = sizeof so_error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len);
    if (st != IoStatus::ok || so_error != 0) {
      kind = st == IoStatus::timeout ? ConnectError::timeout : ConnectError::other;
      error = path + ": " + (so_error ? std::strerror(so_error) : "connect failed");
      return nullptr;
    }
  }
  kind = ConnectError::none;
  return stream;
}

BlockingStream::~BlockingStream() {
  close();
}

void BlockingStream::close() {
  if (ssl_) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

IoStatus BlockingStream::wait(bool want_write, Clock::time_point deadline) {
  for (;;) {
    pollfd p[2] = {{fd_, static_cast<short>(want_write ? POLLOUT : POLLIN), 0},
                   {cancel_fd_, POLLIN, 0}};
    const int n = ::poll(p, cancel_fd_ >= 0 ? 2 : 1, remaining_ms(deadline));
    if (n > 0 && cancel_fd_ >= 0 && (p[1].revents & POLLIN) != 0) return IoStatus::error;
    if (n > 0) return IoStatus::ok;  // errors and hang-ups surface in the next call
    if (n == 0) return IoStatus::timeout;
    if (errno != EINTR) return IoStatus::error;
  }
}

IoStatus BlockingStream::write_all(std::string_view bytes, std::chrono::milliseconds timeout,
                                   std::string& error) {
  if (fd_ < 0) return IoStatus::closed;
  const auto deadline = Clock::now() + timeout;
  std::size_t done = 0;
  while (done < bytes.size()) {
    if (ssl_) {
      const int chunk = static_cast<int>(std::min<std::size_t>(bytes.size() - done, 1 << 20));
      const int n = SSL_write(ssl_, bytes.data() + done, chunk);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
        continue;
      }
      const int e = SSL_get_error(ssl_, n);
      IoStatus st;
      if (e == SSL_ERROR_WANT_READ) {
        st = wait(false, deadline);
      } else if (e == SSL_ERROR_WANT_WRITE) {
        st = wait(true, deadline);
      } else {
        error = e == SSL_ERROR_ZERO_RETURN ? "peer closed" : openssl_error_text();
        return e == SSL_ERROR_ZERO_RETURN ? IoStatus::closed : IoStatus::error;
      }
      if (st != IoStatus::ok) return st;
      continue;
    }
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      const IoStatus st = wait(true, deadline);
      if (st != IoStatus::ok) return st;
      continue;
    }
    error = std::strerror(errno);
    return errno == EPIPE || errno == ECONNRESET ? IoStatus::closed : IoStatus::error;
  }
  return IoStatus::ok;
}

IoStatus BlockingStream::read_some(std::string& out, std::chrono::milliseconds timeout,
                                   std::string& error) {
  if (fd_ < 0) return IoStatus::closed;
  const auto deadline = Clock::now() + timeout;
  char buf[16384];
  for (;;) {
    if (ssl_) {
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        return IoStatus::ok;
      }
      const int e = SSL_get_error(ssl_, n);
      IoStatus st;
      if (e == SSL_ERROR_WANT_READ) {
        st = wait(false, deadline);
      } else if (e == SSL_ERROR_WANT_WRITE) {
        st = wait(true, deadline);
      } else if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
        ERR_clear_error();
        return IoStatus::closed;
      } else {
        error = openssl_error_text();
        return IoStatus::error;
      }
      if (st != IoStatus::ok) return st;
      continue;
    }
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      return IoStatus::ok;
    }
    if (n == 0) return IoStatus::closed;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      const IoStatus st = wait(false, deadline);
      if (st != IoStatus::ok) return st;
      continue;
    }
    error = std::strerror(errno);
    return errno == ECONNRESET ? IoStatus::closed : IoStatus::error;
  }
}

bool BlockingStream::start_tls(SSL_CTX* context, const std::string& verify_host,
                               std::chrono::milliseconds timeout, std::string& error) {
  if (fd_ < 0 || ssl_) {
    error = "connection not usable for TLS";
    return false;
  }
  ERR_clear_error();
  ssl_ = SSL_new(context);
  if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) {
    error = openssl_error_text();
    return false;
  }
  set_client_verify_host(ssl_, verify_host);
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const int r = SSL_connect(ssl_);
    if (r == 1) return true;
    const int e = SSL_get_error(ssl_, r);
    IoStatus st;
    if (e == SSL_ERROR_WANT_READ) {
      st = wait(false, deadline);
    } else if (e == SSL_ERROR_WANT_WRITE) {
      st = wait(true, deadline);
    } else {
      error = e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 ? "connection closed during handshake"
                                                              : openssl_error_text();
      return false;
    }
    if (st == IoStatus::timeout) {
      error = "handshake timed out";
      return false;
    }
    if (st != IoStatus::ok) {
      error = "poll failed during handshake";
      return false;
    }
  }
}

TlsDetails BlockingStream::tls_details() const {
  return tls_details_of(ssl_);
}

void set_client_verify_host(SSL* ssl, const std::string& verify_host) {
  if (verify_host.empty()) return;
  if (is_ip(verify_host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), verify_host.c_str());
  } else {
    // SSL_set_tlsext_host_name() is a macro with a C cast.
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             static_cast<void*>(const_cast<char*>(verify_host.c_str())));
    SSL_set1_host(ssl, verify_host.c_str());
  }
}

TlsDetails tls_details_of(const SSL* ssl) {
  TlsDetails d;
  if (!ssl) return d;
  d.version = SSL_get_version(ssl);
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl)) d.cipher = SSL_CIPHER_get_name(c);
  d.peer_certificate = SSL_get0_peer_certificate(ssl) != nullptr;
  const long v = SSL_get_verify_result(ssl);
  d.trusted = d.peer_certificate && v == X509_V_OK;
  if (!d.trusted) {
    d.verify_error = d.peer_certificate ? X509_verify_cert_error_string(v) : "no certificate";
  }
  return d;
}

}  // namespace postern::outbound
