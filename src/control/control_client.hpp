// The client side of the control socket, used by `postern queue` and
// `postern sendmail`: one blocking call per request. Blocking is right here:
// these are short-lived command-line processes with nothing else to do.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "control/control_protocol.hpp"

namespace postern::control {

struct CallResult {
  enum class Status {
    answered,     // `response` holds the server's answer
    not_running,  // no socket, or nobody listens on it (a stale file)
    failed,       // could not talk to it: permissions, timeout, garbage
  };
  Status status = Status::failed;
  Response response;
  std::string error;  // for not_running and failed: what happened, for humans
};

// Connects to `socket_path`, writes `request` (a request line and, for
// SUBMIT, its envelope block and message), and reads the one response line.
// Gives up after `timeout` overall. When the server answers before it has
// read everything (a refusal), the answer is still returned.
CallResult call(const std::filesystem::path& socket_path, std::string_view request,
                std::chrono::milliseconds timeout);

// A path short enough for sockaddr_un (108 bytes on Linux). Longer paths are
// reached through /proc/self/fd/<dirfd>/<name>; `dir_fd` is then an open
// descriptor of the socket's folder that the caller closes after bind() or
// connect(), and -1 otherwise. Returns an empty string when the folder cannot
// be opened.
std::string reachable_socket_path(const std::filesystem::path& socket_path, int& dir_fd);

}  // namespace postern::control
