#include "net/auth_service.hpp"

#include <sodium.h>

#include <asio/post.hpp>

#include "obs/log.hpp"

namespace postern::net {

AuthService::AuthService(std::filesystem::path users_file, std::size_t threads)
    : users_file_(std::move(users_file)),
      store_(std::make_shared<auth::UserStore>()),
      pool_(threads) {
  reload_if_changed();
}

AuthService::AuthService(std::filesystem::path users_file, std::size_t threads,
                         std::shared_ptr<dovecot::DovecotClient> dovecot)
    : AuthService(std::move(users_file), threads) {
  dovecot_ = std::move(dovecot);
}

AuthService::~AuthService() {
  pool_.join();
}

bool AuthService::reload_if_changed() {
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(users_file_, ec);
  const bool exists = !ec;
  {
    std::lock_guard lock(mu_);
    if (exists == had_file_ && (!exists || mtime == mtime_)) return false;
  }
  std::vector<std::string> problems;
  std::error_code load_ec;
  auto loaded =
      std::make_shared<auth::UserStore>(auth::UserStore::load(users_file_, &problems, load_ec));
  for (const auto& p : problems) obs::warning("config", "users_file problem=\"{}\"", p);
  if (load_ec) {
    obs::error("config", "users_file={} error=\"{}\" action=\"keeping the previous users\"",
               users_file_.string(), load_ec.message());
    return false;
  }
  std::lock_guard lock(mu_);
  store_ = std::move(loaded);
  mtime_ = mtime;
  had_file_ = exists;
  obs::event("users", "file={} count={}", users_file_.string(), store_->addresses().size());
  return true;
}

std::vector<std::string> AuthService::addresses() const {
  std::lock_guard lock(mu_);
  return store_->addresses();
}

void AuthService::verify(std::string client_ip, std::string user, std::string password,
                         std::function<void(Result)> done) {
  Attempt attempt;
  attempt.client_ip = std::move(client_ip);
  attempt.mechanism = "PLAIN";
  verify(std::move(attempt), std::move(user), std::move(password), std::move(done));
}

void AuthService::verify(Attempt attempt, std::string user, std::string password,
                         std::function<void(Result)> done) {
  if (dovecot_) {
    dovecot::AuthRequest request;
    request.mechanism = attempt.mechanism;
    request.user = user;
    request.password = std::move(password);
    request.client_ip = attempt.client_ip;
    request.local_ip = attempt.local_ip;
    request.secured = attempt.secured;
    sodium_memzero(password.data(), password.size());
    dovecot_->authenticate(
        std::move(request),
        [ip = attempt.client_ip, user, done = std::move(done)](dovecot::AuthAnswer answer) {
          Result result;
          switch (answer.verdict) {
            case dovecot::AuthVerdict::ok:
              result.outcome = smtp::AuthOutcome::ok;
              result.user = std::move(answer.user);
              break;
            case dovecot::AuthVerdict::invalid:
              result.outcome = smtp::AuthOutcome::invalid;
              break;
            case dovecot::AuthVerdict::pending:
            case dovecot::AuthVerdict::temporary:
              // Dovecot's trouble, not the client's guess: not counted.
              obs::warning("dovecot",
                           "what=auth client={} user=\"{}\" result=unavailable error=\"{}\" "
                           "action=\"answered 454\"",
                           ip, obs::sanitize(user), obs::sanitize(answer.reason));
              result.outcome = smtp::AuthOutcome::temporary_failure;
              break;
          }
          done(std::move(result));
        });
    return;
  }
  std::shared_ptr<const auth::UserStore> store;
  {
    std::lock_guard lock(mu_);
    store = store_;
  }
  asio::post(pool_, [store, user = std::move(user), password = std::move(password),
                     done = std::move(done)]() mutable {
    user = auth::normalize_address(user);
    Result result;
    const auto hash = store->hash_for(user);
    // Verify against a hash even for unknown users would equalise timing;
    // the throttle delay dominates timing anyway, so we skip the work.
    const bool ok = hash && auth::verify_password(*hash, password);
    result.outcome = ok ? smtp::AuthOutcome::ok : smtp::AuthOutcome::invalid;
    sodium_memzero(password.data(), password.size());
    done(result);
  });
}

}  // namespace postern::net
