// AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN
// (draft-murchison-sasl-login). Passwords pass through here only on their
// way into the VerifyCredentials action: they are never logged, never put
// in a reply, and the buffers that held them are overwritten.
#include <fmt/format.h>

#include "policy/address.hpp"
#include "sasl/sasl.hpp"
#include "smtp/capabilities.hpp"
#include "smtp/replies.hpp"
#include "smtp/session_impl.hpp"

namespace postern::smtp {

std::optional<Reply> ServerSession::Impl::check_auth(std::string_view args,
                                                     AuthArgs& parsed) const {
  if (s_.role != Role::submission) return replies::auth_not_enabled();
  if (!auth_offered(s_, tls_active_)) return replies::auth_encryption_required();
  if (state_ == State::fresh || !esmtp_) return replies::send_ehlo_first();
  if (!user_.empty()) return replies::already_authenticated();
  // RFC 4954 §4: "The AUTH command is not permitted during a mail
  // transaction."
  if (in_transaction()) return replies::auth_in_transaction();
  auto a = parse_auth_args(args);
  if (!a) return replies::syntax("AUTH mechanism [initial-response]");
  if (a->mechanism != "PLAIN" && a->mechanism != "LOGIN") return replies::auth_unknown_mechanism();
  parsed = *a;
  return std::nullopt;
}

void ServerSession::Impl::cmd_auth(std::string_view args) {
  AuthArgs parsed;
  if (auto refusal = check_auth(args, parsed)) {
    if (refusal->code == 504) {
      log("auth", "result=failed reason=\"unknown mechanism\"");
    }
    return reply(*refusal);
  }
  apply_auth(parsed);
}

void ServerSession::Impl::apply_auth(const AuthArgs& args) {
  auth_mechanism_ = args.mechanism;
  auth_user_.clear();
  if (args.mechanism == "PLAIN") {
    if (!args.has_initial) {
      state_ = State::auth_plain;
      reply(replies::auth_challenge(""));  // RFC 4616 §2: empty challenge
      return;
    }
    auth_plain(args.initial);
    return;
  }
  // LOGIN: an initial response carries the user name.
  if (!args.has_initial) {
    state_ = State::auth_login_user;
    reply(replies::auth_challenge("VXNlcm5hbWU6"));  // "Username:"
    return;
  }
  auth_login_user(args.initial);
}

// A continuation line from the client; `line` is wiped afterwards.
void ServerSession::Impl::auth_line(std::string& line) {
  const State step = state_;
  if (line == "*") {
    // RFC 4954 §4: the client cancels the exchange.
    auth_refuse(replies::auth_aborted(), "aborted by client");
  } else if (step == State::auth_plain) {
    auth_plain(line);
  } else if (step == State::auth_login_user) {
    auth_login_user(line);
  } else {
    auth_login_password(line);
  }
  wipe(line);
}

void ServerSession::Impl::auth_refuse(const Reply& r, std::string_view reason) {
  state_ = State::greeted;
  std::string fields = fmt::format("result=failed method={}", auth_mechanism_);
  if (!auth_user_.empty()) fields += " user=" + quote_field(auth_user_);
  fields += " reason=" + quote_field(reason);
  log("auth", std::move(fields), true);
  auth_user_.clear();
  reply(r);
}

void ServerSession::Impl::auth_plain(std::string_view response) {
  state_ = State::greeted;
  auto decoded = sasl::base64_decode(response);
  if (!decoded) return auth_refuse(replies::auth_cannot_decode(), "bad base64");
  wipe(*decoded);
  auto creds = sasl::decode_plain(response);
  if (!creds) return auth_refuse(replies::auth_cannot_decode(), "malformed PLAIN response");
  auth_user_ = creds->authcid;
  // RFC 4616 §2: acting for another identity is not something we offer.
  if (!creds->authzid.empty() && creds->authzid != creds->authcid) {
    wipe(creds->password);
    return auth_refuse(replies::auth_invalid(), "authorization identity differs");
  }
  verify(std::move(creds->authcid), std::move(creds->password));
}

void ServerSession::Impl::auth_login_user(std::string_view response) {
  auto decoded = sasl::base64_decode(response);
  if (!decoded) return auth_refuse(replies::auth_cannot_decode(), "bad base64");
  auth_user_ = std::move(*decoded);
  state_ = State::auth_login_pass;
  reply(replies::auth_challenge("UGFzc3dvcmQ6"));  // "Password:"
}

void ServerSession::Impl::auth_login_password(std::string_view response) {
  state_ = State::greeted;
  auto decoded = sasl::base64_decode(response);
  if (!decoded) return auth_refuse(replies::auth_cannot_decode(), "bad base64");
  verify(auth_user_, std::move(*decoded));
}

void ServerSession::Impl::verify(std::string user, std::string password) {
  auth_user_ = user;
  state_ = State::waiting_auth;
  actions_.emplace_back(VerifyCredentials{auth_mechanism_, std::move(user), std::move(password)});
  wipe(password);  // moved-from, but make sure
}

void ServerSession::Impl::credentials_result(AuthOutcome outcome, std::string_view canonical_user) {
  if (state_ != State::waiting_auth) return;
  state_ = State::greeted;
  // Dovecot may know the user by another name than the one typed (case,
  // a bare local part completed with the domain): that name owns senders.
  const std::string name = outcome == AuthOutcome::ok && !canonical_user.empty()
                               ? std::string(canonical_user)
                               : std::move(auth_user_);
  auth_user_.clear();
  counting_errors_ = true;
  const std::string who = fmt::format("method={} user={}", auth_mechanism_, quote_field(name));
  switch (outcome) {
    case AuthOutcome::ok:
      // The canonical (lowercase) name, as the users file keys it (SPEC
      // §1.9), so ownership checks and trace headers see one spelling.
      user_ = policy::ascii_lower(name);
      log("auth", "result=ok " + who);
      reply(replies::auth_ok());
      break;
    case AuthOutcome::invalid:
      log("auth", "result=failed " + who + " reason=\"invalid credentials\"", true);
      reply(replies::auth_invalid());
      break;
    case AuthOutcome::throttled:
      // A throttled client keeps guessing: count it like a failure.
      log("auth", "result=failed " + who + " reason=\"too many failures\"", true);
      reply_counted(replies::auth_throttled());
      break;
    case AuthOutcome::temporary_failure:
      log("auth", "result=failed " + who + " reason=\"temporary failure\"", true);
      reply(replies::auth_temporary_failure());
      break;
  }
  check_error_limit();
  process();
}

}  // namespace postern::smtp
