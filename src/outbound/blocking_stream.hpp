// One outbound TCP connection, optionally upgraded to TLS, with blocking
// calls bounded by deadlines (poll() on a non-blocking socket). It runs on a
// delivery thread; ClientSession decides what is sent, this only moves bytes.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace postern::outbound {

enum class IoStatus { ok, timeout, closed, error };

enum class ConnectError { none, refused, timeout, other };

// What the TLS handshake established, for the tls_outbound log line.
struct TlsDetails {
  std::string version;  // "TLSv1.3"
  std::string cipher;
  bool peer_certificate = false;  // false: anonymous
  bool trusted = false;           // chain and host name verified
  std::string verify_error;       // why not trusted
};

class BlockingStream {
 public:
  // Connects to ip:port within `timeout`. On failure returns null and says
  // why in `error` and `kind`.
  // `cancel_fd`, when not -1, is a descriptor that becomes readable when
  // every wait should end at once (the server is stopping): connect, reads,
  // writes and handshakes then fail with IoStatus::error. It must outlive
  // the stream.
  static std::unique_ptr<BlockingStream> connect(const std::string& ip, std::uint16_t port,
                                                 std::chrono::milliseconds timeout,
                                                 ConnectError& kind, std::string& error,
                                                 int cancel_fd = -1);
  // The same on a UNIX stream socket (LMTP to Dovecot's lmtp socket). A
  // missing socket or nobody listening is `refused`.
  static std::unique_ptr<BlockingStream> connect_unix(const std::string& path,
                                                      std::chrono::milliseconds timeout,
                                                      ConnectError& kind, std::string& error,
                                                      int cancel_fd = -1);
  ~BlockingStream();
  BlockingStream(const BlockingStream&) = delete;
  BlockingStream& operator=(const BlockingStream&) = delete;

  IoStatus write_all(std::string_view bytes, std::chrono::milliseconds timeout, std::string& error);
  // Appends what arrives (at least one byte on ok) to `out`.
  IoStatus read_some(std::string& out, std::chrono::milliseconds timeout, std::string& error);
  // TLS client handshake. `verify_host` is the name the certificate must
  // carry (the MX host or smarthost); it is also sent as SNI unless it is an
  // IP literal. Verification failures do not fail the handshake: callers
  // decide from tls_details() whether an untrusted peer is acceptable.
  bool start_tls(SSL_CTX* context, const std::string& verify_host,
                 std::chrono::milliseconds timeout, std::string& error);
  bool tls_active() const { return ssl_ != nullptr; }
  TlsDetails tls_details() const;
  // Best effort; the connection is unusable afterwards.
  void close();

 private:
  BlockingStream(int fd, int cancel_fd) : fd_(fd), cancel_fd_(cancel_fd) {}
  // Waits until the socket is readable (want_write false) or writable.
  IoStatus wait(bool want_write, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  int cancel_fd_ = -1;
  SSL* ssl_ = nullptr;
};

// Client-side certificate checks shared by every outbound edge: `verify_host`
// is sent as SNI (unless an IP literal) and is the name the certificate
// must carry. Verification never fails the handshake; tls_details_of says
// whether the peer is trusted.
void set_client_verify_host(SSL* ssl, const std::string& verify_host);
TlsDetails tls_details_of(const SSL* ssl);

// The last OpenSSL error as text (and the queue cleared).
std::string openssl_error_text();

}  // namespace postern::outbound
