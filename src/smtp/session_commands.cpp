// EHLO/HELO, STARTTLS and the small commands of the server session.
#include <fmt/format.h>

#include "smtp/capabilities.hpp"
#include "smtp/replies.hpp"
#include "smtp/session_impl.hpp"

namespace postern::smtp {

// ---- EHLO / HELO (RFC 5321 §4.1.1.1) --------------------------------------------

std::optional<Reply> ServerSession::Impl::check_helo(std::string_view args,
                                                     std::string_view verb) const {
  if (trim(args).empty()) return replies::syntax(fmt::format("{} hostname", verb));
  return std::nullopt;
}

// EHLO and HELO both abandon any transaction ("as if RSET", §4.1.4) and may
// be repeated; authentication and TLS stay.
void ServerSession::Impl::apply_helo(std::string_view domain, bool esmtp) {
  reset_transaction();
  helo_ = std::string(domain);
  esmtp_ = esmtp;
  state_ = State::greeted;
  log("helo", fmt::format("helo={} esmtp={}", quote_field(helo_), esmtp ? "yes" : "no"));
}

void ServerSession::Impl::cmd_ehlo(std::string_view args) {
  if (auto refusal = check_helo(args, "EHLO")) return reply(*refusal);
  apply_helo(trim(args), true);
  reply(replies::ehlo(ehlo_lines(s_, tls_active_)));
}

void ServerSession::Impl::cmd_helo(std::string_view args) {
  if (auto refusal = check_helo(args, "HELO")) return reply(*refusal);
  apply_helo(trim(args), false);
  reply(replies::helo(s_.hostname));
}

// ---- STARTTLS (RFC 3207) --------------------------------------------------------------

// On a listener without STARTTLS (none, implicit) the command is answered
// as one that is not offered there (502), so the client learns the port
// is wrong rather than that TLS is temporarily missing (454).
std::optional<Reply> ServerSession::Impl::check_starttls(std::string_view args) const {
  if (!trim(args).empty()) return replies::syntax("STARTTLS");
  if (tls_active_) return replies::tls_already_active();
  if (s_.tls == TlsMode::none || s_.tls == TlsMode::implicit) {
    return replies::starttls_not_offered();
  }
  if (!s_.tls_available) return replies::tls_not_available();
  return std::nullopt;
}

void ServerSession::Impl::apply_starttls() {
  reply(replies::ready_for_tls());
  // Everything the client sent after STARTTLS in the same flight travelled
  // in plaintext and must never be executed inside TLS (CVE-2011-0411).
  in_.clear();
  state_ = State::waiting_tls;
  actions_.emplace_back(StartTls{});
}

void ServerSession::Impl::cmd_starttls(std::string_view args) {
  if (auto refusal = check_starttls(args)) return reply(*refusal);
  apply_starttls();
}

void ServerSession::Impl::tls_established(const TlsInfo& info) {
  if (state_ == State::closed) return;
  tls_active_ = true;
  tls_ = info;
  // Decrypted bytes are not a plaintext client's first bytes.
  first_bytes_checked_ = true;
  log("tls", fmt::format("result=ok version={} cipher={}", quote_field(info.version),
                         quote_field(info.cipher)));
  if (state_ != State::waiting_tls) return;  // implicit TLS: before start()
  // RFC 3207 §4.2: forget everything learnt before TLS — EHLO name,
  // authentication, transaction — and whatever input is buffered.
  in_.clear();
  reset_transaction();
  helo_.clear();
  esmtp_ = false;
  user_.clear();
  state_ = State::fresh;
  process();
}

// The TLS layer is broken: nothing can be said in plaintext any more.
void ServerSession::Impl::tls_failed() {
  // The driver has logged the handshake error with its details.
  if (state_ == State::closed) return;
  close("tls handshake failed");
}

// ---- small commands ----------------------------------------------------------------

void ServerSession::Impl::cmd_rset(std::string_view args) {
  if (!trim(args).empty()) return reply(replies::syntax("RSET"));
  reset_transaction();
  if (state_ != State::fresh) state_ = State::greeted;
  reply(replies::ok());
}

// RFC 5321 §4.1.1.9: NOOP may carry a string, which is ignored.
void ServerSession::Impl::cmd_noop(std::string_view) {
  reply(replies::ok());
}

void ServerSession::Impl::cmd_quit(std::string_view) {
  reply(replies::bye());
  close("quit");
}

void ServerSession::Impl::cmd_vrfy(std::string_view args) {
  if (trim(args).empty()) return reply(replies::syntax("VRFY address"));
  reply(replies::vrfy());
}

void ServerSession::Impl::cmd_expn(std::string_view) {
  reply(replies::expn_disabled());
}

void ServerSession::Impl::cmd_help(std::string_view) {
  reply(replies::help());
}

}  // namespace postern::smtp
