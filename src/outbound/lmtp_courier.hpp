// Local delivery by LMTP (RFC 2033) to Dovecot or any LMTP server:
// [delivery] local = "lmtp:unix:PATH" or "lmtp:HOST:PORT" (SPEC §1.12).
// A Courier like the Maildir writer, so the queue runner's retries and
// bounces apply unchanged: LMTP's reply per recipient after the data
// becomes one RecipientResult each; 4xx stays queued with backoff, 5xx
// bounces (RFC 3464), and an unreachable server leaves every recipient
// queued.
//
// The protocol is the outbound ClientSession in LMTP mode (LHLO, one reply
// per accepted recipient after the final dot); connections are pooled, so
// consecutive messages share one LMTP session (RSET, next MAIL).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "config/local_target.hpp"
#include "delivery/courier.hpp"
#include "outbound/connection_pool.hpp"
#include "smtp/client_session.hpp"

namespace postern::outbound {

using smtp::client::OutgoingMessage;

struct LmtpOptions {
  config::LocalTarget target;
  std::string hostname;  // for LHLO
  std::chrono::milliseconds connect_timeout{10000};
  // Dovecot answers after writing (and fsyncing) every mailbox: generous.
  std::chrono::milliseconds command_timeout{300000};
  std::size_t max_connections = 4;
  std::chrono::milliseconds idle_keep{10000};
};

class LmtpCourier final : public delivery::Courier {
 public:
  explicit LmtpCourier(LmtpOptions options);
  ~LmtpCourier() override;
  std::vector<delivery::RecipientResult> deliver(
      const spool::QueuedMessage& message, std::string_view data,
      const std::vector<std::size_t>& recipients) override;
  // The server is stopping: every wait on an LMTP socket ends at once and
  // what is not answered stays queued.
  void cancel() override;

  std::size_t open_connections() const { return pool_.open_connections(); }

 private:
  struct Event;  // ready, done (one reply per recipient) or failed
  // nullptr with `error` when no session could be opened; `busy` when that
  // was our own connection limit rather than the server.
  std::unique_ptr<Link> connect(const std::string& queue_id, std::string& error, bool& busy);
  Event drive(Link& link);
  // One attempt on `link`; false when the session broke before an answer.
  bool send_on(std::unique_ptr<Link> link, const spool::QueuedMessage& message,
               const OutgoingMessage& outgoing, std::vector<delivery::RecipientResult>& out);

  LmtpOptions options_;
  std::string where_;  // "lmtp:unix:/run/dovecot/lmtp", in logs and results
  // Readable once cancel() ran; every stream polls it. Declared before
  // pool_ so that it is closed after the pool's links.
  struct CancelFd {
    CancelFd();
    ~CancelFd();
    int fd = -1;
  } cancel_fd_;
  std::atomic<bool> cancelled_{false};
  ConnectionPool pool_;
};

}  // namespace postern::outbound
