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
#include "net/inbound_service.hpp"
#include "net/session_limiter.hpp"
#include "policy/directory.hpp"
#include "spool/spool.hpp"
#include "state/store.hpp"

namespace postern::net {

// What a session reads from the configuration when it starts. A reload
// swaps in a new one; a session keeps the one it started with, so nothing
// changes under an open session (docs/service.md, "Reload").
struct SessionPolicy {
  std::string hostname;
  Limits limits;
  std::vector<config::Network> relay_networks;
  std::string default_domain;     // [addresses] default_domain, for sendmail's local users
  limits::RateLimits rates;       // per-user and AUTH-failure limits (SPEC §1.10)
  config::InboundConfig inbound;  // SPF, DKIM, DMARC, DNS blocklists (SPEC §1.8)

  static SessionPolicy from(const config::Config& config) {
    return {config.hostname,
            config.limits,
            config.relay_networks,
            config.addresses.effective_default_domain(config.hostname, config.local_domains),
            config.rate_limits,
            config.inbound};
  }
};

class SharedState {
 public:
  // `max_sessions`: the configured one, or less when the descriptor limit
  // does not leave room for it (service/descriptors.hpp).
  SharedState(const config::Config& config, std::size_t max_sessions, AuthService& auth_service,
              spool::Spool& spool_ref)
      : limiter(max_sessions, config.limits.max_sessions_per_ip),
        auth(auth_service),
        spool(spool_ref),
        policy_(std::make_shared<const SessionPolicy>(SessionPolicy::from(config))) {}

  SessionLimiter limiter;
  AuthService& auth;
  spool::Spool& spool;
  // Signs outgoing mail (SPEC §1.7); null when no [[dkim]] is configured.
  DkimService* dkim = nullptr;
  // Where shared counters live (per-user limits, AUTH failures): in this
  // process or in Redis ([state] url). Set by app/ before sessions start.
  state::Store* store = nullptr;
  // The inbound checks' resolver and pool (SPEC §1.8); null when the server
  // has no relay listener.
  InboundService* inbound = nullptr;

  std::shared_ptr<const SessionPolicy> policy() const {
    std::lock_guard lock(mu_);
    return policy_;
  }
  void set_policy(std::shared_ptr<const SessionPolicy> p) {
    std::lock_guard lock(mu_);
    policy_ = std::move(p);
  }

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
  std::shared_ptr<const SessionPolicy> policy_;
  std::shared_ptr<const policy::Directory> directory_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::shared_ptr<dovecot::DovecotClient> dovecot_;
};

}  // namespace postern::net
