// The thin asynchronous edge between postern and a running Dovecot: runs
// the pure dialogues (auth_client_dialogue, userdb_dialogue) over Dovecot's
// UNIX sockets on an event loop of its own, each under a deadline, and
// answers through callbacks. Nothing here blocks a session's loop; a
// Dovecot that is down, slow or not Dovecot at all becomes a "temporary"
// answer, never a hang and never a crash.
//
// One connection per question: Dovecot's auth process accepts thousands of
// short connections cheaply, a fresh connection cannot be confused by the
// previous request's leftovers, and no reconnection logic is needed after
// Dovecot restarts.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "dovecot/auth_client_dialogue.hpp"
#include "dovecot/userdb_dialogue.hpp"

namespace postern::dovecot {

struct ClientOptions {
  std::filesystem::path auth_socket;    // auth-client: passdb (AUTH)
  std::filesystem::path userdb_socket;  // auth-userdb: userdb (USER)
  // Dovecot delays a failed AUTH by auth_failure_delay (2 s by default)
  // and answers an address that keeps failing only after its auth penalty
  // (up to 15 s more): the deadline leaves room for both.
  std::chrono::milliseconds auth_timeout{30000};
  std::chrono::milliseconds lookup_timeout{5000};
  // RCPT answers are cached briefly: a burst of mail to one user asks
  // Dovecot once; a user added in Dovecot is accepted within negative_ttl.
  // Temporary failures are never cached.
  std::chrono::milliseconds positive_ttl{60000};
  std::chrono::milliseconds negative_ttl{10000};
};

struct AuthAnswer {
  AuthVerdict verdict = AuthVerdict::temporary;
  std::string user;    // Dovecot's name for the user (ok)
  std::string reason;  // for the log
};

struct LookupAnswer {
  UserVerdict verdict = UserVerdict::temporary;
  std::string reason;
  bool cached = false;
};

// The socket next to `auth_socket` that answers userdb lookups:
// "/run/dovecot/auth-client" -> "/run/dovecot/auth-userdb", Dovecot's own
// layout; Postfix-style "private/auth" -> "private/auth-userdb".
std::filesystem::path userdb_socket_beside(const std::filesystem::path& auth_socket);

class DovecotClient {
 public:
  explicit DovecotClient(ClientOptions options);
  // Stops the loop: destroy it only after the sessions that wait on it.
  ~DovecotClient();
  DovecotClient(const DovecotClient&) = delete;
  DovecotClient& operator=(const DovecotClient&) = delete;

  // Ends the client's loop (questions in flight are dropped with it);
  // afterwards every question is answered "temporary" at once. The server
  // calls it before the session loops go away, so that no answer is posted
  // to a loop that no longer exists.
  void stop();

  // `done` runs on the client's own thread, exactly once (or at once on
  // the caller's thread after stop()).
  void authenticate(AuthRequest request, std::function<void(AuthAnswer)> done);
  void lookup_user(std::string address, std::function<void(LookupAnswer)> done);

  const ClientOptions& options() const { return options_; }

 private:
  struct Loop;
  std::optional<LookupAnswer> cached(const std::string& key);
  void remember(const std::string& key, UserVerdict verdict);

  ClientOptions options_;
  std::mutex loop_mu_;
  std::unique_ptr<Loop> loop_;
  std::mutex cache_mu_;
  struct CacheEntry {
    UserVerdict verdict;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<std::string, CacheEntry> cache_;
  unsigned next_id_ = 1;
};

}  // namespace postern::dovecot
