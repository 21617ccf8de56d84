// The sd_notify(3) datagram: how a Type=notify service tells systemd that it
// is ready, reloading or stopping. The protocol is one AF_UNIX datagram of
// newline-separated KEY=VALUE lines to the socket named in $NOTIFY_SOCKET
// (a path, or "@name" for the abstract namespace), documented as stable.
// It is a dozen lines, so postern writes it itself instead of linking
// libsystemd (and pulling its dependencies into every install, also where
// systemd is not the service manager).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace postern::service {

// The states postern reports, as the lines systemd reads.
std::string ready_message(std::string_view status);
// RELOADING=1 carries MONOTONIC_USEC (systemd.service(5), Type=notify-reload)
// so that systemd can tell this reload from an earlier one.
std::string reloading_message(std::chrono::microseconds monotonic_now);
std::string stopping_message();

class SystemdNotifier {
 public:
  // Reads $NOTIFY_SOCKET; without it (not started by systemd) every send is a
  // no-op that succeeds.
  static SystemdNotifier from_environment();
  explicit SystemdNotifier(std::string socket_name) : socket_(std::move(socket_name)) {}

  bool enabled() const { return !socket_.empty(); }
  // Sends one datagram; returns an error text, or nothing on success. A
  // failure is reported but never stops the server: the service manager is
  // then the one to time out.
  std::optional<std::string> send(std::string_view message) const;

  void ready(std::string_view status) const;
  void reloading() const;
  void stopping() const;

 private:
  std::string socket_;
};

}  // namespace postern::service
