// Checks SMTP AUTH credentials off the event loop: argon2id verification is
// deliberately slow, so it runs on a small thread pool, behind the failure
// throttle. The users file is re-read when it changes on disk.
#pragma once

#include <asio/thread_pool.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "auth/throttle.hpp"
#include "auth/user_store.hpp"
#include "smtp/server_session.hpp"

namespace postern::net {

class AuthService {
 public:
  AuthService(std::filesystem::path users_file, std::size_t threads);
  ~AuthService();

  // Re-reads the users file when its modification time changed. Returns true
  // when the set of users may have changed.
  bool reload_if_changed();
  std::vector<std::string> addresses() const;

  struct Result {
    smtp::AuthOutcome outcome = smtp::AuthOutcome::invalid;
    std::chrono::milliseconds delay{0};  // answer only after this delay
  };
  // Calls `done` from a pool thread. `password` is moved in and wiped after use.
  void verify(std::string client_ip, std::string user, std::string password,
              std::function<void(Result)> done);

 private:
  std::filesystem::path users_file_;
  mutable std::mutex mu_;
  std::shared_ptr<const auth::UserStore> store_;
  std::filesystem::file_time_type mtime_{};
  bool had_file_ = false;
  auth::AuthThrottle throttle_;
  asio::thread_pool pool_;
};

}  // namespace postern::net
