#include "net/auth_service.hpp"

#include <sodium.h>

#include <asio/post.hpp>

#include "metrics/server_metrics.hpp"
#include "obs/log.hpp"

namespace postern::net {

AuthService::AuthService(std::filesystem::path users_file, std::size_t threads)
    : users_file_(std::move(users_file)),
      store_(std::make_shared<auth::UserStore>()),
      verify_password_([](std::string_view hash, std::string_view password) {
        return auth::verify_password(hash, password);
      }),
      pool_(threads) {
  // Random and thrown away: nobody can log in with it, not even by luck,
  // since an unknown user's check fails whatever it says.
  unsigned char raw[24];
  randombytes_buf(raw, sizeof raw);
  dummy_hash_ =
      auth::hash_password(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  sodium_memzero(raw, sizeof raw);
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
  {
    std::lock_guard lock(mu_);
    store_ = loaded;
    mtime_ = mtime;
    had_file_ = exists;
  }
  // A changed password or a removed user no longer matches its cached tag
  // anyway (the stored hash is part of it); this frees those entries.
  cache_.drop_changed([&loaded](std::string_view user) { return loaded->hash_for(user); });
  obs::event("users", "file={} count={}", users_file_.string(), loaded->addresses().size());
  return true;
}

void AuthService::set_cache_ttl(std::chrono::seconds ttl) {
  cache_.set_ttl(ttl);
}

std::size_t AuthService::cached_credentials() const {
  return cache_.size();
}

void AuthService::set_password_verifier(PasswordVerifier verifier) {
  verify_password_ = std::move(verifier);
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
  // "ALICE@x" and "alice@x" are one user. The throttle sits in front of
  // this (net/connection.cpp), so a locked-out user never gets here.
  user = auth::normalize_address(user);
  // A credential that passed within cache_ttl: no hash, no pool thread
  // (SPEC §1.10). Only a right password can hit, so a wrong one always
  // takes the pool path below.
  if (const auto hash = store->hash_for(user)) {
    const auto now = std::chrono::steady_clock::now();
    if (cache_.hit(user, password, *hash, now)) {
      sodium_memzero(password.data(), password.size());
      metrics::auth_password_check("cache");
      Result result;
      result.outcome = smtp::AuthOutcome::ok;
      return done(result);
    }
  }
  asio::post(pool_, [this, store, user = std::move(user), password = std::move(password),
                     done = std::move(done)]() mutable {
    const auto now = std::chrono::steady_clock::now();
    Result result;
    const auto hash = store->hash_for(user);
    // Clients that log in at the same moment all miss the cache and
    // queue here; the first one's hash fills it for the others.
    const bool cached = hash && cache_.hit(user, password, *hash, now);
    // An unknown user is checked against the dummy hash: the same work,
    // so the answer's timing does not tell which users exist.
    const bool matched = cached || verify_password_(hash ? *hash : dummy_hash_, password);
    metrics::auth_password_check(cached ? "cache" : "hash");
    if (hash && matched) {
      if (!cached) cache_.remember(user, password, *hash, now);
      result.outcome = smtp::AuthOutcome::ok;
    } else {
      result.outcome = smtp::AuthOutcome::invalid;
    }
    sodium_memzero(password.data(), password.size());
    done(result);
  });
}

}  // namespace postern::net
