// Lints of running as a service (SPEC §1.11, docs/service.md): which user
// the server becomes when started as root, whether that user can read the
// key at a reload, and whether max_sessions fits the descriptor limit.
#include "config/lint_service.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "config/lint_rules.hpp"
#include "service/descriptors.hpp"
#include "service/privileges.hpp"

namespace postern::config {
namespace {

constexpr const char* kCreateUser =
    "useradd --system --home-dir /var/lib/postern --shell /usr/sbin/nologin postern";

void lint_user(const Config& config, std::vector<Problem>& out) {
  if (config.embedded) return;        // runs as whoever starts it (docs/service.md)
  if (config.user == "root") return;  // written out: the operator's choice
  const bool root = ::geteuid() == 0;
  const std::string name =
      config.user.empty() ? std::string(service::kDefaultServiceUser) : config.user;
  if (config.user.empty() && !root) return;  // not root: nothing to change
  if (service::find_user(name)) return;
  if (config.user.empty()) {
    out.push_back(error_at(
        config.where("user"),
        "started as root, postern would run as user \"postern\", which does not exist; it never "
        "stays root unless told to",
        std::string("create the user (") + kCreateUser +
            "), or name an existing unprivileged one with user = \"name\" at the top of the "
            "file; user = \"root\" keeps root, which lets a bug in parsing mail from the "
            "Internet take over the machine"));
    return;
  }
  out.push_back(error_at(
      config.where("user"), "user \"" + name + "\" does not exist",
      std::string("create it (") + kCreateUser + ", with your name) or name an existing user"));
}

// Reloads read the key as the service user: it must be able to.
void lint_key_access(const Config& config, std::vector<Problem>& out) {
  if (config.embedded || config.user == "root" || ::geteuid() != 0) return;
  if (config.tls.key.empty()) return;
  const std::string name =
      config.user.empty() ? std::string(service::kDefaultServiceUser) : config.user;
  const auto user = service::find_user(name);
  if (!user) return;
  struct stat st {};
  if (::stat(config.tls.key.c_str(), &st) != 0) return;  // lint_certificate says so
  const bool readable = (st.st_uid == user->uid && (st.st_mode & S_IRUSR)) ||
                        (st.st_gid == user->gid && (st.st_mode & S_IRGRP)) ||
                        (st.st_mode & S_IROTH);
  if (!readable) {
    out.push_back(warning_at(
        config.where("tls.key"),
        "TLS key " + config.tls.key.string() + " cannot be read by user " + name +
            ": postern reads it as root at start, but a reload (a renewed certificate) reads it "
            "as " +
            name + " and would be refused",
        "chgrp " + name + " " + config.tls.key.string() + " && chmod 0640 " +
            config.tls.key.string()));
  }
}

void lint_descriptors(const Config& config, std::vector<Problem>& out) {
  const auto limit = service::read_nofile_limit();  // the server raises soft to hard
  service::DescriptorNeeds needs;
  needs.listeners = config.listeners.size();
  needs.event_loops = std::max(1u, std::thread::hardware_concurrency());
  needs.outbound_connections = config.delivery.max_connections;
  const auto budget = service::plan_sessions(limit.hard, config.limits.max_sessions, needs);
  if (!budget.capped) return;
  out.push_back(
      warning_at(config.where("limits.max_sessions"),
                 "max_sessions = " + std::to_string(config.limits.max_sessions) +
                     " does not fit the descriptor limit: with " + std::to_string(limit.hard) +
                     " descriptors and " + std::to_string(budget.reserved) +
                     " kept for the spool, deliveries and control, at most " +
                     std::to_string(budget.effective_max_sessions) +
                     " sessions can be served; postern caps it there",
                 "raise the hard limit (systemd: LimitNOFILE=" +
                     std::to_string(config.limits.max_sessions + budget.reserved) +
                     "; otherwise ulimit -Hn or /etc/security/limits.conf) or lower max_sessions"));
}

}  // namespace

std::vector<Problem> lint_service(const Config& config) {
  std::vector<Problem> out;
  lint_user(config, out);
  lint_key_access(config, out);
  lint_descriptors(config, out);
  return out;
}

}  // namespace postern::config
