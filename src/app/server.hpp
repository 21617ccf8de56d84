// The running server: one event loop per core, the listeners, the spool and
// the local queue runner, wired together. Blocks in run() until SIGTERM or
// SIGINT; SIGHUP reloads certificates and the users file without dropping
// sessions.
#pragma once

#include <memory>

#include "config/config.hpp"

namespace postern::app {

class Server {
 public:
  explicit Server(config::Config config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Throws std::runtime_error with an operator-facing message when start-up
  // fails (a port in use, an unusable spool, a bad certificate).
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace postern::app
