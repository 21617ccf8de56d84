// `postern check`: the rules that make each port keep its purpose (SPEC §1.1,
// §3), plus what would stop the server from starting or keeping mail safe.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "config/lint_rules.hpp"

namespace postern::config {
namespace {

namespace fs = std::filesystem;

bool is_submission_port(std::uint16_t port) {
  return port == 587 || port == 465 || port == 2525 || port == 2587 || port == 2465;
}

std::string listener_name(const ListenerConfig& l) {
  return "listener " + l.address + " (" + std::string(to_string(l.role)) + ", tls " +
         std::string(to_string(l.tls)) + ")";
}

}  // namespace

void lint_listeners(const Config& config, std::vector<Problem>& out) {
  for (const auto& l : config.listeners) {
    const std::string where = config.where_line(l.line);
    const std::string name = listener_name(l);
    const bool plaintext_auth =
        l.role == Role::submission && (l.tls == TlsMode::none || l.tls == TlsMode::starttls);

    // SPEC §1.1: AUTH must never be possible before TLS unless the operator
    // said so explicitly.
    if (plaintext_auth && !l.insecure) {
      out.push_back(error_at(
          where,
          name + ": credentials would cross the network in plaintext" +
              (l.tls == TlsMode::starttls ? " (STARTTLS is optional in mode \"starttls\")" : ""),
          "set tls = \"starttls-required\" or \"implicit\", or insecure = true if this port is "
          "only reachable over a trusted network (loopback, a VPN)"));
    } else if (plaintext_auth) {
      out.push_back(warning_at(
          where, name + ": insecure = true: passwords may be sent without TLS on this port",
          "keep this only for a trusted network (loopback, a VPN); elsewhere use tls = "
          "\"starttls-required\""));
    } else if (l.insecure) {
      out.push_back(warning_at(where, name + ": insecure = true has no effect here",
                               "remove insecure = true from this listener"));
    }

    if (l.role == Role::relay && is_submission_port(l.port)) {
      out.push_back(warning_at(
          where,
          name + ": port " + std::to_string(l.port) +
              " is a submission port (RFC 6409, RFC 8314): clients expect AUTH there, and "
              "a relay listener does not offer it",
          "set role = \"submission\", or move the relay listener to port 25"));
    }
    if (l.role == Role::submission && l.port == 25) {
      out.push_back(warning_at(
          where,
          name + ": port 25 is for server-to-server relay; MTAs will not authenticate, so "
                 "mail from other servers to your domains would be refused",
          "use role = \"relay\" on port 25 and put submission on 587 (and 465)"));
    }

    if (l.tls == TlsMode::implicit && (l.port == 25 || l.port == 587 || l.port == 2525)) {
      out.push_back(warning_at(
          where,
          name + ": port " + std::to_string(l.port) +
              " speaks STARTTLS; clients will send a plaintext EHLO and never get a banner",
          std::string("use tls = \"") + (l.port == 25 ? "starttls" : "starttls-required") +
              "\" here, and implicit TLS on 465"));
    }
    if (l.port == 465 && l.tls != TlsMode::implicit) {
      out.push_back(warning_at(where,
                               name + ": 465 is implicit TLS (RFC 8314); clients will start "
                                      "a TLS handshake and wait for no banner",
                               "set tls = \"implicit\" on port 465"));
    }
    // RFC 3207 §4: a publicly-referenced SMTP server must not require
    // STARTTLS for delivery to local domains; many MTAs would fail to deliver.
    if (l.role == Role::relay && l.port == 25 && l.tls == TlsMode::starttls_required) {
      out.push_back(warning_at(
          where,
          name + ": requiring STARTTLS on port 25 makes servers without TLS unable to deliver "
                 "to you (RFC 3207 §4)",
          "use tls = \"starttls\" on port 25"));
    }
  }
}

void lint_storage(const Config& config, std::vector<Problem>& out) {
  std::error_code ec;
  const fs::path& dir = config.data_dir;
  const std::string where = config.where("data_dir");
  const std::string fix = "create it (mkdir -p " + dir.string() +
                          ") and make it writable by the user postern runs as, or set data_dir "
                          "to a directory that is";
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      out.push_back(error_at(where, "data_dir " + dir.string() + " is not a directory", fix));
    } else {
      // Permission bits do not tell the truth (root, ACLs, read-only
      // mounts), so try what the spool will do: create a file.
      const fs::path probe = dir / (".postern-check." + std::to_string(::getpid()));
      const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0) {
        out.push_back(error_at(
            where, "data_dir " + dir.string() + " is not writable: " + std::strerror(errno), fix));
      } else {
        ::close(fd);
        ::unlink(probe.c_str());
      }
    }
  } else {
    // It will be created on start: the nearest existing ancestor must be a
    // directory we can create entries in.
    fs::path ancestor = dir.parent_path();
    while (!ancestor.empty() && !fs::exists(ancestor, ec) && ancestor != ancestor.parent_path()) {
      ancestor = ancestor.parent_path();
    }
    std::string why;
    if (ancestor.empty() || !fs::exists(ancestor, ec)) {
      why = "no parent directory exists";
    } else if (!fs::is_directory(ancestor, ec)) {
      why = ancestor.string() + " is not a directory";
    } else {
      const fs::path probe = ancestor / (".postern-check." + std::to_string(::getpid()));
      if (::mkdir(probe.c_str(), 0700) != 0) {
        why = "cannot create entries in " + ancestor.string() + ": " + std::strerror(errno);
      } else {
        ::rmdir(probe.c_str());
      }
    }
    if (!why.empty()) {
      out.push_back(error_at(
          where, "data_dir " + dir.string() + " does not exist and cannot be created: " + why,
          fix));
    }
  }

  const bool has_submission =
      std::any_of(config.listeners.begin(), config.listeners.end(),
                  [](const ListenerConfig& l) { return l.role == Role::submission; });
  const fs::path& users = config.auth.users_file;
  const std::string users_where = config.where("auth.users_file");
  if (fs::exists(users, ec)) {
    std::ifstream in(users);
    if (fs::is_directory(users, ec) || !in) {
      out.push_back(error_at(users_where, "users file " + users.string() + " cannot be read",
                             "make it a readable file (it holds address:hash lines), or set "
                             "[auth] users_file"));
    }
  } else if (has_submission && !config.embedded) {
    // The embedded default creates its first user on the first start.
    out.push_back(warning_at(
        users_where,
        "users file " + users.string() +
            " does not exist: nobody can authenticate on the submission listeners",
        "create users with `postern user add ADDRESS" +
            (config.source.empty() ? std::string() : " --config " + config.source.string()) + "`"));
  }

  if (config.unsafe_ack_before_fsync) {
    out.push_back(warning_at(
        config.where("spool.unsafe_ack_before_fsync"),
        "UNSAFE: [spool] unsafe_ack_before_fsync = true: mail is acknowledged with 250 before "
        "it is on disk, so acknowledged mail can be lost on a crash or power loss",
        "this setting is for benchmarks only; remove it from any server that handles real "
        "mail"));
  }
}

void lint_identity(const Config& config, std::vector<Problem>& out) {
  const std::string& h = config.hostname;
  if (config.embedded && h == "localhost") return;
  if (h.find('.') == std::string::npos) {
    out.push_back(warning_at(
        config.where("hostname"),
        "hostname \"" + h + "\" is not a fully qualified domain name" +
            (config.hostname_from_system ? " (taken from the system: hostname is not set)" : "") +
            "; other servers see it in the greeting and EHLO and may distrust or refuse it",
        "set hostname = \"mail.example.com\": the name whose A/AAAA record points here and "
        "that the reverse DNS (PTR) of this address returns"));
  }
  const bool has_relay = std::any_of(config.listeners.begin(), config.listeners.end(),
                                     [](const ListenerConfig& l) { return l.role == Role::relay; });
  if (has_relay && config.local_domains.empty()) {
    out.push_back(warning_at(config.where("local_domains"),
                             "local_domains is empty: the relay listeners will accept mail for "
                             "no domain",
                             "list the domains this server receives mail for, e.g. "
                             "local_domains = [\"example.com\"]"));
  }
}

std::vector<Problem> lint(const Config& config) {
  std::vector<Problem> out;
  lint_listeners(config, out);
  lint_certificate(config, out);
  lint_relay(config, out);
  lint_storage(config, out);
  lint_identity(config, out);
  lint_delivery(config, out);
  lint_dovecot(config, out);
  lint_dkim(config, out);
  lint_limits(config, out);
  lint_inbound(config, out);
  return out;
}

}  // namespace postern::config
