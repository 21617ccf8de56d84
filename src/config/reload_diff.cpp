#include "config/reload_diff.hpp"

#include <utility>

namespace postern::config {
namespace {

const ListenerConfig* find(const std::vector<ListenerConfig>& ls, const std::string& address) {
  for (const auto& l : ls) {
    if (l.address == address) return &l;
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> needs_restart(const Config& running, const Config& next) {
  std::vector<std::string> out;
  for (const auto& l : next.listeners) {
    const ListenerConfig* was = find(running.listeners, l.address);
    if (was == nullptr) {
      out.push_back("listener " + l.address + " added");
    } else if (was->role != l.role || was->tls != l.tls || was->insecure != l.insecure) {
      out.push_back("listener " + l.address + " changed (role, tls or insecure)");
    }
  }
  for (const auto& l : running.listeners) {
    if (find(next.listeners, l.address) == nullptr) {
      out.push_back("listener " + l.address + " removed");
    }
  }
  if (running.data_dir != next.data_dir) out.push_back("data_dir changed");
  if (running.user != next.user) out.push_back("user changed");
  if (running.metrics.address != next.metrics.address) out.push_back("[metrics] address changed");
  if (running.log.target != next.log.target) out.push_back("[log] target changed");
  // The counters' backend is built once; the limits themselves reload.
  if (running.state.url != next.state.url) out.push_back("[state] url changed");
  // The queue runner, its couriers (with the outbound sender rules they
  // copy) and the Dovecot client are built once, at start: each key they
  // read is named, so the operator knows which edit waits for a restart
  // (docs/service.md, "Reload"). Everything not listed here is applied.
  const auto& a = running.delivery;
  const auto& b = next.delivery;
  const auto& ra = running.addresses;
  const auto& na = next.addresses;
  const std::pair<const char*, bool> fixed_at_start[] = {
      {"[delivery] resolver", a.resolver != b.resolver},
      {"[delivery] remote_port", a.remote_port != b.remote_port},
      {"[delivery] tls", a.tls != b.tls},
      {"[delivery] tls_fallback_plaintext", a.tls_fallback_plaintext != b.tls_fallback_plaintext},
      {"[delivery] tls_policy", a.tls_policy != b.tls_policy},
      {"[delivery] smarthost", a.smarthost != b.smarthost},
      {"[delivery] smarthost_tls", a.smarthost_tls != b.smarthost_tls},
      {"[delivery] smarthost_user", a.smarthost_user != b.smarthost_user},
      {"[delivery] smarthost_password", a.smarthost_password != b.smarthost_password},
      {"[delivery] smarthost_password_file",
       a.smarthost_password_file != b.smarthost_password_file},
      {"[delivery] smarthost_ca_file", a.smarthost_ca_file != b.smarthost_ca_file},
      {"[delivery] fallback_ports", a.fallback_ports != b.fallback_ports},
      {"[delivery] retry_initial", a.retry_initial != b.retry_initial},
      {"[delivery] retry_max", a.retry_max != b.retry_max},
      {"[delivery] max_queue_lifetime", a.max_queue_lifetime != b.max_queue_lifetime},
      {"[delivery] connect_timeout", a.connect_timeout != b.connect_timeout},
      {"[delivery] command_timeout", a.command_timeout != b.command_timeout},
      {"[delivery] max_connections", a.max_connections != b.max_connections},
      {"[delivery] max_connections_per_destination",
       a.max_connections_per_destination != b.max_connections_per_destination},
      {"[delivery] local", a.local != b.local},
      {"local_domains (for delivery; RCPT uses the new ones)",
       running.local_domains != next.local_domains},
      {"hostname (for delivery's EHLO and bounces; the greeting uses the new one)",
       running.hostname != next.hostname},
      {"[addresses] smarthost_senders", ra.smarthost_senders != na.smarthost_senders},
      {"[addresses] smarthost_rewrite_from",
       ra.smarthost_rewrite_from != na.smarthost_rewrite_from},
      {"[addresses] srs_secret_file (for forwarding; replies to SRS addresses use the new one)",
       ra.srs_secret_file != na.srs_secret_file},
      {"[addresses] srs_domain (for forwarding)", ra.srs_domain != na.srs_domain},
      {"[auth] users_file", running.auth.users_file != next.auth.users_file},
      {"[auth] backend", running.auth.backend != next.auth.backend},
      {"[auth] dovecot_auth_socket",
       running.auth.dovecot_auth_socket != next.auth.dovecot_auth_socket},
  };
  for (const auto& [what, changed] : fixed_at_start) {
    if (changed) out.push_back(std::string(what) + " changed");
  }
  if (running.unsafe_ack_before_fsync != next.unsafe_ack_before_fsync) {
    out.push_back("[spool] unsafe_ack_before_fsync changed");
  }
  return out;
}

}  // namespace postern::config
