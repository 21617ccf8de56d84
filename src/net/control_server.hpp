// The server end of <data_dir>/control.sock (src/control/control_protocol.hpp):
// `postern queue flush|delete|hold|release` and `postern sendmail` talk to
// the running server through it. Access is the socket file's: mode 0660,
// owner and group of the server process.
#pragma once

#include <asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <memory>

#include "control/control_protocol.hpp"
#include "delivery/queue_runner.hpp"
#include "net/shared_state.hpp"

namespace postern::net {

class ControlServer {
 public:
  // Accepts on `loop`. `runner` and `shared` must outlive stop().
  ControlServer(asio::io_context& loop, std::filesystem::path socket_path, SharedState& shared,
                delivery::QueueRunner& runner);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // What RELOAD does (the same as SIGHUP); called on the control server's
  // worker thread. Set before start().
  void set_reload(std::function<control::Response()> handler);

  // Removes a stale socket file (one nobody answers on), binds, sets mode
  // 0660, and starts accepting. Throws std::runtime_error when another
  // server answers on the socket or it cannot be created.
  void start();
  // Stops accepting and removes the socket file; clients in progress finish
  // with the loop. Safe to call more than once, from the loop's thread.
  void close();
  // close(), then waits for the thread that runs operator changes. Call
  // after QueueRunner::stop() (so no change still waits for a delivery
  // attempt) and before the loop is destroyed (so no answer is posted to a
  // dead loop).
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace postern::net
