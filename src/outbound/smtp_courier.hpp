// Delivers to remote domains over SMTP (SPEC §1.5): straight to each
// domain's MX hosts, or everything through a smarthost.
//
// The I/O runs on an event loop of the courier's own (asio, C++20
// coroutines), so a delivery in flight costs a socket and a coroutine frame,
// not a thread: a hundred sessions waiting on silent peers cost what one
// does. Each connection is driven by the pure smtp::client::ClientSession;
// this file only moves its bytes, with a deadline on every step (RFC 5321
// §4.5.3.2), STARTTLS on the same socket, and connection reuse for a few
// seconds so a burst of messages to one destination shares one session.
// DNS lookups block in libunbound's interface, so they run on a small fixed
// pool and the loop awaits their answers.
//
// How many deliveries are in flight, overall and per destination, is the
// queue runner's scheduler's business (delivery/scheduler.hpp); the courier
// takes what it is given.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "delivery/courier.hpp"
#include "dns/resolver.hpp"
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
  // Threads for the blocking DNS lookups (MX, then addresses of each host).
  std::size_t dns_threads = 4;
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

  // Starts the delivery on the event loop and waits for it (tests, tools).
  // Must not be called from the courier's own loop.
  std::vector<delivery::RecipientResult> deliver(
      const spool::QueuedMessage& message, std::string_view data,
      const std::vector<std::size_t>& recipients) override;

  bool asynchronous() const override { return true; }
  void deliver_async(const spool::QueuedMessage& message, std::shared_ptr<const std::string> data,
                     std::vector<std::size_t> recipients, Completion done) override;

  // The server is stopping: every connection in progress is cut at once
  // (its recipients get transient results), every DNS wait ends, and later
  // deliveries give up at once.
  void cancel() override;

  // Connections currently open (idle or in use); for tests.
  std::size_t open_connections() const;
  // Deliveries started and not yet completed; for tests.
  std::size_t in_flight() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace postern::outbound
