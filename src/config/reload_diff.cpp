#include "config/reload_diff.hpp"

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
  // The queue runner and its couriers are built once (docs/service.md).
  const auto& a = running.delivery;
  const auto& b = next.delivery;
  if (a.resolver != b.resolver || a.remote_port != b.remote_port || a.tls != b.tls ||
      a.tls_fallback_plaintext != b.tls_fallback_plaintext || a.tls_policy != b.tls_policy ||
      a.smarthost != b.smarthost || a.smarthost_tls != b.smarthost_tls ||
      a.smarthost_user != b.smarthost_user || a.smarthost_password != b.smarthost_password ||
      a.smarthost_password_file != b.smarthost_password_file ||
      a.fallback_ports != b.fallback_ports || a.retry_initial != b.retry_initial ||
      a.retry_max != b.retry_max || a.max_queue_lifetime != b.max_queue_lifetime ||
      a.connect_timeout != b.connect_timeout || a.command_timeout != b.command_timeout ||
      a.max_connections != b.max_connections ||
      a.max_connections_per_destination != b.max_connections_per_destination ||
      a.smarthost_ca_file != b.smarthost_ca_file || running.local_domains != next.local_domains) {
    out.push_back("[delivery] settings (or local_domains for delivery) changed");
  }
  if (running.unsafe_ack_before_fsync != next.unsafe_ack_before_fsync) {
    out.push_back("[spool] unsafe_ack_before_fsync changed");
  }
  return out;
}

}  // namespace postern::config
