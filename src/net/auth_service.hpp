// Checks SMTP AUTH credentials off the event loop. The failure throttle
// stands in front of it, in the connection driver, on the shared counters
// (auth/throttle.hpp), so that it also holds across nodes. Two backends
// ([auth] backend): "file", the users file with argon2id (deliberately
// slow, so on a small thread pool; re-read when it changes on disk), and
// "dovecot", Dovecot's auth-client socket (SPEC §1.12), asked
// asynchronously by dovecot::DovecotClient.
#pragma once

#include <asio/thread_pool.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "auth/credential_cache.hpp"
#include "auth/user_store.hpp"
#include "dovecot/dovecot_client.hpp"
#include "smtp/server_session.hpp"

namespace postern::net {

class AuthService {
 public:
  AuthService(std::filesystem::path users_file, std::size_t threads);
  // With a Dovecot client, credentials go to Dovecot instead of the file.
  AuthService(std::filesystem::path users_file, std::size_t threads,
              std::shared_ptr<dovecot::DovecotClient> dovecot);
  ~AuthService();

  // Re-reads the users file when its modification time changed. Returns true
  // when the set of users may have changed.
  bool reload_if_changed();
  std::vector<std::string> addresses() const;

  // [auth] cache_ttl (SPEC §1.10): how long a good password check is
  // remembered; 0 turns the cache off. A reload calls it again.
  void set_cache_ttl(std::chrono::seconds ttl);
  std::size_t cached_credentials() const;
  // The argon2id check, replaceable so tests can count hashes. Set before
  // the first verify().
  using PasswordVerifier = std::function<bool(std::string_view hash, std::string_view password)>;
  void set_password_verifier(PasswordVerifier verifier);

  struct Result {
    smtp::AuthOutcome outcome = smtp::AuthOutcome::invalid;
    std::chrono::milliseconds delay{0};  // answer only after this delay
    std::string user;  // the verifier's name for the user (Dovecot's user=); may be empty
  };
  // What Dovecot is told about the attempt besides the credentials.
  struct Attempt {
    std::string client_ip;
    std::string local_ip;
    std::string mechanism;  // "PLAIN" or "LOGIN", passed through to Dovecot
    bool secured = false;   // the session runs over TLS
  };
  // Calls `done` from a pool thread. `password` is moved in and wiped after use.
  void verify(std::string client_ip, std::string user, std::string password,
              std::function<void(Result)> done);
  void verify(Attempt attempt, std::string user, std::string password,
              std::function<void(Result)> done);

 private:
  std::filesystem::path users_file_;
  mutable std::mutex mu_;
  std::shared_ptr<const auth::UserStore> store_;
  std::filesystem::file_time_type mtime_{};
  bool had_file_ = false;
  auth::CredentialCache cache_{std::chrono::minutes(15)};
  // An argon2id hash of a random password, made at start with the
  // parameters `postern user` uses: an unknown user is checked against it,
  // so AUTH costs the same whether or not the user exists.
  std::string dummy_hash_;
  PasswordVerifier verify_password_;
  std::shared_ptr<dovecot::DovecotClient> dovecot_;
  asio::thread_pool pool_;
};

}  // namespace postern::net
