// Delivers to remote domains over SMTP (SPEC §1.5): straight to each
// domain's MX hosts, or everything through a smarthost. Runs on the queue
// runner's delivery threads with blocking, deadline-bounded I/O, driving one
// ClientSession per connection. Connections are reused for a few seconds so
// a burst of messages to one destination shares one session.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "delivery/courier.hpp"
#include "dns/resolver.hpp"
#include "outbound/connection_pool.hpp"
#include "smtp/client_session.hpp"

namespace postern::outbound {

// The client protocol itself is pure and lives in smtp/; the courier drives it.
using smtp::client::Credentials;
using smtp::client::OutgoingMessage;
using smtp::client::RecipientReply;
using smtp::client::TlsPolicy;

struct CourierTuning {
  // How long an idle connection is kept for the next message.
  std::chrono::milliseconds idle_keep{5000};
};

class SmtpCourier final : public delivery::Courier {
 public:
  // Throws std::runtime_error at start-up when the smarthost settings cannot
  // be used (bad "host:port", unreadable password file or CA file).
  SmtpCourier(const config::Config& config, std::shared_ptr<dns::Resolver> resolver,
              CourierTuning tuning = {});
  ~SmtpCourier() override;
  SmtpCourier(const SmtpCourier&) = delete;
  SmtpCourier& operator=(const SmtpCourier&) = delete;

  std::vector<delivery::RecipientResult> deliver(
      const spool::QueuedMessage& message, std::string_view data,
      const std::vector<std::size_t>& recipients) override;

  // The server is stopping: every wait on a peer ends at once (an eventfd
  // polled beside each socket), and later deliveries give up at once.
  void cancel() override;

  // Connections currently open (idle in the pool or in use); for tests.
  std::size_t open_connections() const { return pool_.open_connections(); }

 private:
  struct Target {
    std::string host;  // MX host or smarthost name, for SNI/verification and logs
    std::string ip;
    std::uint16_t port = 25;
    TlsPolicy tls = TlsPolicy::opportunistic;
    bool implicit_tls = false;
    bool smarthost = false;
  };
  struct Attempt {
    enum class Kind { done, connect_failed, session_failed } kind = Kind::session_failed;
    std::vector<RecipientReply> results;
    std::string error;
    std::string where;
    bool tls_failure = false;  // the handshake or STARTTLS failed
  };
  struct Event;

  std::vector<delivery::RecipientResult> deliver_direct(const spool::QueuedMessage& message,
                                                        std::string_view data,
                                                        const std::string& domain,
                                                        const std::vector<std::size_t>& rcpts);
  std::vector<delivery::RecipientResult> deliver_smarthost(const spool::QueuedMessage& message,
                                                           std::string_view data,
                                                           const std::vector<std::size_t>& rcpts);
  Attempt attempt(const Target& target, const spool::QueuedMessage& message,
                  const OutgoingMessage& outgoing);
  Attempt attempt_fresh(const Target& target, const spool::QueuedMessage& message,
                        const OutgoingMessage& outgoing);
  Event drive(Link& link, const std::string& queue_id);
  Attempt send_on(std::unique_ptr<Link> link, const spool::QueuedMessage& message,
                  const OutgoingMessage& outgoing, bool reused);
  TlsPolicy policy_for(const std::string& domain) const;
  std::string key_of(const Target& target) const;
  std::chrono::milliseconds step_timeout(std::chrono::milliseconds rfc_default) const;
  void reaper();

  std::string hostname_;
  config::DeliveryConfig delivery_;
  bool command_timeout_set_ = false;
  std::shared_ptr<dns::Resolver> resolver_;
  std::optional<Credentials> smarthost_credentials_;
  std::string smarthost_host_;
  std::uint16_t smarthost_port_ = 0;
  SSL_CTX* mx_tls_ = nullptr;
  SSL_CTX* smarthost_tls_ = nullptr;
  // Declared before pool_ so that it is closed after the pool's links,
  // whose streams poll it.
  struct CancelFd {
    CancelFd();
    ~CancelFd();
    int fd = -1;
  } cancel_fd_;
  ConnectionPool pool_;

  std::atomic<bool> cancelled_{false};

  std::mutex reaper_mutex_;
  std::condition_variable reaper_cv_;
  bool stopping_ = false;
  std::thread reaper_thread_;
};

}  // namespace postern::outbound
