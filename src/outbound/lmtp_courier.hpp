// Local delivery by LMTP (RFC 2033) to Dovecot or any LMTP server:
// [delivery] local = "lmtp:unix:PATH" or "lmtp:HOST:PORT" (SPEC §1.12).
// A Courier like the Maildir writer, so the queue runner's retries and
// bounces apply unchanged: LMTP's reply per recipient after the data
// becomes one RecipientResult each; 4xx stays queued with backoff, 5xx
// bounces (RFC 3464), and an unreachable server leaves every recipient
// queued.
//
// The protocol is the outbound ClientSession in LMTP mode (LHLO, one reply
// per accepted recipient after the final dot). Like the SMTP courier, the
// I/O runs on an event loop of the courier's own (asio, C++20 coroutines):
// a delivery waiting on Dovecot costs a socket and a coroutine frame, not a
// thread, each step has a deadline, and cancel() cuts every session at
// once. Connections are kept idle for a while, so consecutive messages
// share one LMTP session (RSET, next MAIL).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "config/local_target.hpp"
#include "delivery/courier.hpp"

namespace postern::outbound {

struct LmtpOptions {
  config::LocalTarget target;
  std::string hostname;  // for LHLO
  std::chrono::milliseconds connect_timeout{10000};
  // Bounds every step (greeting, each command, the replies after the final
  // dot). Dovecot answers after writing (and fsyncing) every mailbox:
  // generous.
  std::chrono::milliseconds command_timeout{300000};
  // Sessions open at once; a delivery that finds them all busy waits for
  // one (up to connect_timeout) and is then deferred with 4.4.5.
  std::size_t max_connections = 4;
  std::chrono::milliseconds idle_keep{10000};
};

class LmtpCourier final : public delivery::Courier {
 public:
  explicit LmtpCourier(LmtpOptions options);
  ~LmtpCourier() override;
  LmtpCourier(const LmtpCourier&) = delete;
  LmtpCourier& operator=(const LmtpCourier&) = delete;

  // Starts the delivery on the event loop and waits for it (tests, tools).
  // Must not be called from the courier's own loop.
  std::vector<delivery::RecipientResult> deliver(
      const spool::QueuedMessage& message, std::string_view data,
      const std::vector<std::size_t>& recipients) override;

  bool asynchronous() const override { return true; }
  void deliver_async(const spool::QueuedMessage& message, std::shared_ptr<const std::string> data,
                     std::vector<std::size_t> recipients, Completion done) override;

  // The server is stopping: every wait on an LMTP socket ends at once and
  // what is not answered stays queued; later deliveries give up at once.
  void cancel() override;

  // Connections currently open (idle or in use); for tests.
  std::size_t open_connections() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace postern::outbound
