// The SMTP server state machine: input loop, command table and the public
// API. The handlers live in session_commands.cpp, session_auth.cpp,
// session_envelope.cpp and session_message.cpp.
#include "smtp/server_session.hpp"

#include <fmt/format.h>

#include "obs/log.hpp"
#include "smtp/replies.hpp"
#include "smtp/session_impl.hpp"
#include "smtp/wire_detect.hpp"

namespace postern::smtp {
namespace {

bool is_http_method(std::string_view verb) {
  return verb == "GET" || verb == "POST" || verb == "HEAD" || verb == "PUT" || verb == "CONNECT" ||
         verb == "OPTIONS" || verb == "DELETE" || verb == "PATCH";
}

}  // namespace

void wipe(std::string& secret) {
  volatile char* p = secret.data();
  for (std::size_t i = 0; i < secret.size(); ++i) p[i] = 0;
  secret.clear();
}

std::string quote_field(std::string_view value) {
  std::string out = "\"";
  for (char c : obs::sanitize(value)) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

const std::array<ServerSession::Impl::CommandSpec, 14>& ServerSession::Impl::command_table() {
  // RFC 2920 §3.1: EHLO, HELO, DATA, BDAT (LAST), QUIT, STARTTLS, AUTH and
  // NOOP end a pipeline group (VRFY and EXPN too: their answers may change
  // what the client does next). RFC 3207 §4: before TLS, a
  // starttls-required listener takes only what cannot carry mail or
  // credentials. EXPN's 502 is a policy answer to a valid command, so it
  // does not count as a client error.
  static const std::array<CommandSpec, 14> table = {{
      // verb       handler              before_tls counts ends_group
      {"EHLO", &Impl::cmd_ehlo, true, true, true},
      {"HELO", &Impl::cmd_helo, true, true, true},
      {"STARTTLS", &Impl::cmd_starttls, true, true, true},
      {"AUTH", &Impl::cmd_auth, false, true, true},
      {"MAIL", &Impl::cmd_mail, false, true, false},
      {"RCPT", &Impl::cmd_rcpt, false, true, false},
      {"DATA", &Impl::cmd_data, false, true, true},
      {"BDAT", &Impl::cmd_bdat, false, true, false},
      {"RSET", &Impl::cmd_rset, true, true, false},
      {"NOOP", &Impl::cmd_noop, true, true, true},
      {"QUIT", &Impl::cmd_quit, true, true, true},
      {"VRFY", &Impl::cmd_vrfy, true, true, true},
      {"EXPN", &Impl::cmd_expn, true, false, true},
      {"HELP", &Impl::cmd_help, true, true, false},
  }};
  return table;
}

ServerSession::Impl::Impl(SessionSettings settings, const policy::Directory& directory)
    : s_(std::move(settings)), directory_(directory), in_(kMaxCommandLine) {}

// ---- output -------------------------------------------------------------------

void ServerSession::Impl::reply(const Reply& r) {
  if (state_ == State::closed) return;
  actions_.emplace_back(SendReply{r.render()});
  if (r.code >= 500 && counting_errors_) ++errors_;
}

void ServerSession::Impl::reply_counted(const Reply& r) {
  if (state_ == State::closed) return;
  actions_.emplace_back(SendReply{r.render()});
  ++errors_;
}

void ServerSession::Impl::log(std::string_view event, std::string fields, bool warning) {
  if (state_ == State::closed) return;
  actions_.emplace_back(
      LogEvent{std::string(event),
               fmt::format("session={} client={} {}", s_.session_id, s_.client_ip, fields), warning,
               Reply{}});
}

// A refusal an operator wants to see: who, what, and the answer.
void ServerSession::Impl::reject(std::string_view cmd, const Reply& r, std::string_view to) {
  std::string fields = fmt::format("cmd={}", cmd);
  if (in_transaction() || state_ == State::data || state_ == State::bdat) {
    fields += fmt::format(" from={}", quote_field("<" + envelope_.mail_from + ">"));
  }
  if (!to.empty()) fields += fmt::format(" to={}", quote_field("<" + std::string(to) + ">"));
  if (!user_.empty()) fields += " user=" + quote_field(user_);
  fields += " reply=" + quote_field(r.summary());
  log("reject", std::move(fields));
  if (!actions_.empty()) {
    if (auto* logged = std::get_if<LogEvent>(&actions_.back())) logged->reply = r;
  }
  reply(r);
}

// SPEC §1.2: after max_errors error replies the session ends with 421.
void ServerSession::Impl::check_error_limit() {
  if (state_ == State::closed || errors_ < s_.limits.max_errors) return;
  log("reject", fmt::format("reason=\"too many errors\" errors={}", errors_), true);
  reply(replies::too_many_errors(s_.hostname));
  close("too many errors");
}

void ServerSession::Impl::close(std::string reason) {
  if (state_ == State::closed) return;
  state_ = State::closed;
  in_.clear();
  body_.clear();
  actions_.emplace_back(Close{std::move(reason)});
}

void ServerSession::Impl::reset_transaction() {
  envelope_ = Envelope{};
  recipients_seen_.clear();
  body_.clear();
  body_.shrink_to_fit();
  decoder_.reset();
  bdat_.reset();
  bdat_used_ = false;
  bdat_deferred_.reset();
}

bool ServerSession::Impl::waiting() const {
  return state_ == State::waiting_tls || state_ == State::waiting_auth ||
         state_ == State::waiting_rcpt || state_ == State::waiting_rate ||
         state_ == State::waiting_commit;
}

bool ServerSession::Impl::tls_required_now() const {
  return s_.tls == TlsMode::starttls_required && !tls_active_;
}

// ---- input --------------------------------------------------------------------

void ServerSession::Impl::start() {
  if (started_ || state_ == State::closed) return;
  started_ = true;
  if (!s_.refuse_with.empty()) {
    log("reject", "reason=" + quote_field(s_.refuse_with), true);
    reply(replies::refused(s_.refuse_with));
    close("session limit");
    return;
  }
  reply(replies::banner(s_.hostname));
}

void ServerSession::Impl::feed(std::string_view bytes) {
  if (state_ == State::closed || bytes.empty()) return;
  in_.append(bytes);
  if (waiting() && in_.size() > kMaxBufferedInput) {
    log("reject", "reason=\"too much input while a reply is pending\"", true);
    close("too much pipelined input");
    return;
  }
  process();
}

void ServerSession::Impl::process() {
  if (!first_bytes_checked_ && !tls_active_ && !in_.empty()) {
    // A TLS record header is three bytes; with fewer, wait for the rest
    // unless they already cannot be one.
    const FirstBytes first = tls_client_hello_start(in_.view());
    if (first == FirstBytes::need_more) return;
    first_bytes_checked_ = true;
    if (first == FirstBytes::tls) {
      log("reject",
          "reason=\"implicit TLS sent to a plaintext/STARTTLS port; the client should use "
          "STARTTLS or connect to the implicit TLS port\"",
          true);
      close("tls client hello on a plaintext port");
      return;
    }
  }
  first_bytes_checked_ = true;
  std::string line;
  while (state_ != State::closed && !waiting() && !in_.empty()) {
    if (state_ == State::data || state_ == State::bdat) {
      if (state_ == State::data) {
        process_data();
      } else {
        process_bdat();
      }
      check_error_limit();
      continue;
    }
    const auto result = in_.next_line(line);
    if (result == InputBuffer::LineResult::incomplete) break;
    counting_errors_ = true;
    if (result == InputBuffer::LineResult::too_long) {
      if (in_auth_exchange()) {
        in_.wipe_consumed();
        auth_refuse(replies::auth_cannot_decode(), "response too long");
      } else {
        reply(replies::line_too_long());
      }
    } else if (in_auth_exchange()) {
      in_.wipe_consumed();
      auth_line(line);
    } else {
      dispatch(line);
    }
    check_error_limit();
  }
}

void ServerSession::Impl::dispatch(std::string_view line) {
  ++lines_seen_;
  if (line.find('\0') != std::string_view::npos) {
    reply(replies::nul_in_command());
    return;
  }
  const CommandLine cmd = split_command(line);
  // STYLE habit 15: a web client (or a proxy abused to reach us) is not
  // going to become an SMTP client; answer once and hang up.
  if (lines_seen_ == 1 && is_http_method(cmd.verb) && line.size() > cmd.verb.size()) {
    log("reject", "reason=\"HTTP request on an SMTP port\"", true);
    reply(replies::not_smtp(s_.hostname));
    close("http request");
    return;
  }
  for (const auto& spec : command_table()) {
    if (spec.verb != cmd.verb) continue;
    counting_errors_ = spec.counts_errors;
    if (!spec.before_tls && tls_required_now()) {
      if (spec.handler == &Impl::cmd_bdat) {
        refuse_bdat(cmd.args, replies::must_starttls());
      } else {
        reply(replies::must_starttls());
      }
      return;
    }
    (this->*spec.handler)(cmd.args);
    // RFC 2920 §3.1: a client must wait after these. One that does not is
    // worth a note (and STARTTLS already threw its extra input away).
    if (spec.ends_group && !in_.empty() && !pipelining_logged_ && state_ != State::data &&
        state_ != State::bdat && state_ != State::closed) {
      pipelining_logged_ = true;
      log("pipelining", fmt::format("after={} reason=\"input sent before the reply\"", spec.verb));
    }
    return;
  }
  reply(replies::unknown_command());
}

void ServerSession::Impl::timeout() {
  if (state_ == State::closed) return;
  log("timeout",
      fmt::format("state={}", state_ == State::data || state_ == State::bdat
                                  ? "message"
                                  : (in_transaction() ? "envelope" : "command")),
      true);
  // While an action is outstanding its reply has to come first; a 421 now
  // would answer the wrong command.
  if (!waiting()) reply(replies::timeout(s_.hostname));
  close("timeout");
}

void ServerSession::Impl::peer_closed() {
  if (state_ == State::closed) return;
  if (in_transaction() || state_ == State::data || state_ == State::bdat ||
      state_ == State::waiting_rcpt || state_ == State::waiting_rate ||
      state_ == State::waiting_commit) {
    log("lost",
        fmt::format("reason=\"connection lost during a transaction\" state={}",
                    state_ == State::data || state_ == State::bdat ? "message" : "envelope"),
        true);
  }
  close("peer closed");
}

// ---- public API -------------------------------------------------------------

ServerSession::ServerSession(SessionSettings settings, const policy::Directory& directory)
    : impl_(std::make_unique<Impl>(std::move(settings), directory)) {}

ServerSession::~ServerSession() = default;

void ServerSession::start() {
  impl_->start();
}
void ServerSession::feed(std::string_view bytes) {
  impl_->feed(bytes);
}
void ServerSession::tls_established(const TlsInfo& info) {
  impl_->tls_established(info);
}
void ServerSession::tls_failed() {
  impl_->tls_failed();
}
void ServerSession::credentials_result(AuthOutcome outcome, std::string_view user) {
  impl_->credentials_result(outcome, user);
}
void ServerSession::recipient_result(RecipientLookup result) {
  impl_->recipient_result(result);
}
void ServerSession::rate_result(const RateDecision& decision) {
  impl_->rate_result(decision);
}
void ServerSession::message_committed(std::string_view queue_id) {
  impl_->message_committed(queue_id);
}
void ServerSession::message_failed(std::string_view why) {
  impl_->message_failed(why);
}

void ServerSession::message_rejected(std::string_view why) {
  impl_->message_rejected(why);
}
void ServerSession::message_refused(const Reply& reply, std::string_view reason) {
  impl_->message_refused(reply, reason);
}
void ServerSession::timeout() {
  impl_->timeout();
}
void ServerSession::peer_closed() {
  impl_->peer_closed();
}
void ServerSession::set_now(std::chrono::system_clock::time_point now) {
  impl_->s_.now = now;
}

std::vector<Action> ServerSession::take_actions() {
  std::vector<Action> out;
  out.swap(impl_->actions_);
  return out;
}

bool ServerSession::wants_input() const {
  return impl_->state_ != State::closed && !impl_->waiting();
}
bool ServerSession::closed() const {
  return impl_->state_ == State::closed;
}
std::size_t ServerSession::buffered() const {
  return impl_->in_.size();
}
bool ServerSession::receiving_message() const {
  return impl_->state_ == State::data || impl_->state_ == State::bdat;
}
std::string_view ServerSession::authenticated_user() const {
  return impl_->user_;
}

}  // namespace postern::smtp
