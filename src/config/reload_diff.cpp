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
  if (running.unsafe_ack_before_fsync != next.unsafe_ack_before_fsync) {
    out.push_back("[spool] unsafe_ack_before_fsync changed");
  }
  return out;
}

}  // namespace postern::config
