// Open outbound connections: a bound on how many exist (overall and per
// destination host) and a short-lived cache of idle ones, so consecutive
// messages to the same destination reuse a session (RSET, next MAIL)
// instead of paying TCP + TLS + EHLO again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "outbound/blocking_stream.hpp"
#include "smtp/client_session.hpp"

namespace postern::outbound {

using smtp::client::ClientSession;

// One connection and the session that speaks on it.
struct Link {
  std::unique_ptr<BlockingStream> stream;
  std::unique_ptr<ClientSession> session;
  std::string key;                 // what may reuse it: destination, address, port, TLS policy
  std::string destination;         // the host name the per-destination bound counts
  std::string where;               // "mx.example.org[192.0.2.1]:25", for logs and results
  SSL_CTX* tls_context = nullptr;  // for STARTTLS
  std::string verify_host;         // the name the certificate must carry
  bool require_trusted = false;    // an untrusted certificate ends the session
  std::chrono::steady_clock::time_point idle_since{};
};

class ConnectionPool {
 public:
  ConnectionPool(std::size_t max_total, std::size_t max_per_destination,
                 std::chrono::milliseconds idle_keep);
  ~ConnectionPool();  // closes every idle link (QUIT, best effort)
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // An idle link with this key, or null. The link keeps its slot.
  std::unique_ptr<Link> take_idle(const std::string& key);
  // Reserves a slot for a new connection to `destination`, closing idle
  // links of other keys when that makes room, waiting up to `wait` for a
  // busy one to finish. False when no slot became free.
  bool acquire(const std::string& destination, std::chrono::milliseconds wait);
  // Keeps a ready link for reuse (its slot stays taken).
  void put_idle(std::unique_ptr<Link> link);
  // Gives back the slot of a link that was closed (or never opened).
  void release(const std::string& destination);
  // Closes idle links older than idle_keep; called periodically.
  void expire();

  std::size_t open_connections() const;

 private:
  void close_link(std::unique_ptr<Link> link);  // without the lock held
  bool evict_one_idle(std::unique_lock<std::mutex>& lock, const std::string& except);

  const std::size_t max_total_;
  const std::size_t max_per_destination_;
  const std::chrono::milliseconds idle_keep_;
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  std::size_t total_ = 0;
  std::map<std::string, std::size_t> per_destination_;
  std::vector<std::unique_ptr<Link>> idle_;
};

// Ends a link politely: QUIT, then close. Never waits long.
void close_politely(Link& link);

}  // namespace postern::outbound
