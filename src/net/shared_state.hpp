// What every connection of a running server shares: the pieces that outlive
// one session and may be swapped on reload.
#pragma once

#include <asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "dovecot/dovecot_client.hpp"
#include "net/auth_service.hpp"
#include "net/dkim_service.hpp"
#include "net/session_limiter.hpp"
#include "policy/directory.hpp"
#include "spool/spool.hpp"

namespace postern::net {

class SharedState {
 public:
  SharedState(const config::Config& config, AuthService& auth_service, spool::Spool& spool_ref)
      : hostname(config.hostname),
        limits(config.limits),
        relay_networks(config.relay_networks),
        limiter(config.limits.max_sessions, config.limits.max_sessions_per_ip),
        auth(auth_service),
        spool(spool_ref) {}

  const std::string hostname;
  const Limits limits;
  const std::vector<config::Network> relay_networks;
  SessionLimiter limiter;
  AuthService& auth;
  spool::Spool& spool;
  // Signs outgoing mail (SPEC §1.7); null when no [[dkim]] is configured.
  DkimService* dkim = nullptr;

  std::shared_ptr<const policy::Directory> directory() const {
    std::lock_guard lock(mu_);
    return directory_;
  }
  void set_directory(std::shared_ptr<const policy::Directory> d) {
    std::lock_guard lock(mu_);
    directory_ = std::move(d);
  }
  // Set when [auth] backend = "dovecot": recipients are looked up there.
  std::shared_ptr<dovecot::DovecotClient> dovecot() const {
    std::lock_guard lock(mu_);
    return dovecot_;
  }
  void set_dovecot(std::shared_ptr<dovecot::DovecotClient> d) {
    std::lock_guard lock(mu_);
    dovecot_ = std::move(d);
  }
  // Null when no certificate is configured or it failed to load.
  std::shared_ptr<asio::ssl::context> tls() const {
    std::lock_guard lock(mu_);
    return tls_;
  }
  void set_tls(std::shared_ptr<asio::ssl::context> t) {
    std::lock_guard lock(mu_);
    tls_ = std::move(t);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const policy::Directory> directory_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::shared_ptr<dovecot::DovecotClient> dovecot_;
};

}  // namespace postern::net
