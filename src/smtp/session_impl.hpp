// The inside of ServerSession (private to src/smtp). The handlers are spread
// over session_*.cpp by topic; this header is what they share.
//
// Shape (STYLE.md): an explicit state enum; one command table that says for
// every verb whether it is allowed before TLS on a starttls-required
// listener, whether its error replies count toward the error limit and
// whether it ends a pipeline group; each command checked first (a Reply on
// refusal, nothing changed) and only then applied.
#pragma once

#include <array>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/reply.hpp"
#include "smtp/bdat_reader.hpp"
#include "smtp/command_parser.hpp"
#include "smtp/dot_decoder.hpp"
#include "smtp/input_buffer.hpp"
#include "smtp/server_session.hpp"

namespace postern::smtp {

// Input we hold while an asynchronous action is outstanding. The driver
// reads nothing while the session waits, so this only bounds what arrived
// in the same read as the command that started the wait; a client that
// gets past it is not speaking SMTP with PIPELINING (RFC 2920 §3.1 makes
// DATA, BDAT LAST, AUTH and STARTTLS the end of a group) and is closed.
inline constexpr std::size_t kMaxBufferedInput = kMaxCommandLine + 64 * 1024;

enum class State {
  fresh,            // connected (or TLS just started): no EHLO/HELO yet
  greeted,          // EHLO/HELO done, no transaction
  mail,             // MAIL accepted, no recipient yet
  rcpt,             // at least one recipient accepted
  data,             // receiving DATA content
  bdat,             // receiving (or skipping) a BDAT chunk
  auth_plain,       // AUTH PLAIN waits for the client's response line
  auth_login_user,  // AUTH LOGIN waits for the user name
  auth_login_pass,  // AUTH LOGIN waits for the password
  waiting_tls,      // StartTls issued
  waiting_auth,     // VerifyCredentials issued
  waiting_rcpt,     // LookupRecipient issued
  waiting_rate,     // CheckRate issued (MAIL or RCPT waits for the user's limits)
  waiting_commit,   // CommitMessage issued
  closed,
};

struct ServerSession::Impl {
  using Handler = void (Impl::*)(std::string_view args);
  struct CommandSpec {
    std::string_view verb;
    Handler handler;
    bool before_tls;     // allowed on a starttls-required listener before TLS
    bool counts_errors;  // its 5xx replies count toward limits.max_errors
    bool ends_group;     // RFC 2920 §3.1: the client waits for its reply
  };
  static const std::array<CommandSpec, 14>& command_table();

  Impl(SessionSettings settings, const policy::Directory& directory);

  // ---- plumbing (server_session.cpp) ----------------------------------------
  void start();
  void feed(std::string_view bytes);
  void process();
  void dispatch(std::string_view line);
  void timeout();
  void peer_closed();
  bool waiting() const;
  bool in_transaction() const { return state_ == State::mail || state_ == State::rcpt; }
  bool in_auth_exchange() const {
    return state_ == State::auth_plain || state_ == State::auth_login_user ||
           state_ == State::auth_login_pass;
  }
  bool tls_required_now() const;

  // What counts toward limits.max_errors (SPEC §1.2): every 5xx reply to a
  // command whose table entry says so — unknown verbs, syntax, bad
  // sequence, line too long, policy refusals (a harvester collects 550s),
  // failed AUTH, an oversized message — plus the throttled-AUTH 454. Other
  // 4xx replies never count: they are our trouble (storage, temporary auth
  // failure) or a limit a good client is told to work around (452 too many
  // recipients).
  void reply(const Reply& r);          // counts a 5xx when counting_errors_
  void reply_counted(const Reply& r);  // always counts (throttled AUTH)
  void log(std::string_view event, std::string fields, bool warning = false);
  void reject(std::string_view cmd, const Reply& r, std::string_view to = {});
  void check_error_limit();
  void close(std::string reason);
  void reset_transaction();

  // ---- greeting and small commands (session_commands.cpp) -------------------
  void cmd_ehlo(std::string_view args);
  void cmd_helo(std::string_view args);
  void cmd_starttls(std::string_view args);
  void cmd_rset(std::string_view args);
  void cmd_noop(std::string_view args);
  void cmd_quit(std::string_view args);
  void cmd_vrfy(std::string_view args);
  void cmd_expn(std::string_view args);
  void cmd_help(std::string_view args);
  std::optional<Reply> check_helo(std::string_view args, std::string_view verb) const;
  void apply_helo(std::string_view domain, bool esmtp);
  std::optional<Reply> check_starttls(std::string_view args) const;
  void apply_starttls();
  void tls_established(const TlsInfo& info);
  void tls_failed();

  // ---- AUTH (session_auth.cpp) ----------------------------------------------
  void cmd_auth(std::string_view args);
  std::optional<Reply> check_auth(std::string_view args, AuthArgs& parsed) const;
  void apply_auth(const AuthArgs& args);
  void auth_line(std::string& line);
  void auth_plain(std::string_view response);
  void auth_login_user(std::string_view response);
  void auth_login_password(std::string_view response);
  void auth_refuse(const Reply& r, std::string_view reason);
  void verify(std::string user, std::string password);
  void credentials_result(AuthOutcome outcome, std::string_view canonical_user);

  // ---- MAIL and RCPT (session_envelope.cpp) ---------------------------------
  void cmd_mail(std::string_view args);
  void cmd_rcpt(std::string_view args);
  struct MailCheck {
    std::string sender;  // "" is the null sender
    MailParams params;
  };
  std::optional<Reply> check_mail(std::string_view args, MailCheck& out) const;
  void apply_mail(MailCheck mail);
  struct RcptCheck {
    Recipient recipient;
    bool needs_lookup = false;  // the user database must confirm the mailbox
    std::string normalized;     // policy::normalized_address of the recipient
  };
  std::optional<Reply> check_rcpt(std::string_view args, RcptCheck& out, std::string& shown) const;
  void apply_rcpt(RcptCheck rcpt);
  void recipient_result(RecipientLookup result);

  // ---- per-user limits (session_rate.cpp) -----------------------------------
  // Checked, then asked: MAIL and new recipients of an authenticated user
  // wait for CheckRate when limits are configured; otherwise applied at once.
  void admit_mail(MailCheck mail);
  void admit_rcpt(RcptCheck rcpt);
  void rate_result(const RateDecision& decision);

  // ---- DATA, BDAT and commit (session_message.cpp) --------------------------
  void cmd_data(std::string_view args);
  void cmd_bdat(std::string_view args);
  std::optional<Reply> check_data(std::string_view args) const;
  void apply_data();
  std::optional<Reply> check_bdat(const BdatArgs& args) const;
  void apply_bdat(const BdatArgs& args);
  void skip_chunk(std::size_t size, const Reply& r);
  void refuse_bdat(std::string_view args, const Reply& r);
  void process_data();
  void process_bdat();
  void end_message(std::string_view verb, bool overflowed);
  void finish_chunk();
  std::optional<Reply> check_header_senders(std::string_view data) const;
  void commit(std::string data);
  void message_committed(std::string_view id);
  void message_failed(std::string_view why);
  void message_rejected(std::string_view why);
  void message_refused(const Reply& r, std::string_view reason);

  // ---- members ----------------------------------------------------------------
  SessionSettings s_;
  const policy::Directory& directory_;
  std::vector<Action> actions_;
  InputBuffer in_;
  State state_ = State::fresh;
  bool started_ = false;
  bool first_bytes_checked_ = false;  // the ClientHello check (STYLE habit 14)
  std::size_t lines_seen_ = 0;
  std::size_t errors_ = 0;
  bool counting_errors_ = true;  // from the table entry of the current command
  bool pipelining_logged_ = false;

  // Connection state that STARTTLS resets (RFC 3207 §4.2).
  bool tls_active_ = false;
  TlsInfo tls_;
  std::string helo_;
  bool esmtp_ = false;
  std::string user_;  // authenticated user, empty when none

  // AUTH exchange in progress. The password itself is never stored here.
  std::string auth_mechanism_;
  std::string auth_user_;

  // Transaction (RFC 5321 §3.3).
  Envelope envelope_;
  std::optional<RcptCheck> pending_rcpt_;  // while waiting_rcpt or waiting_rate
  std::optional<MailCheck> pending_mail_;  // while waiting_rate for MAIL
  State rate_return_ = State::greeted;     // where a CheckRate answer goes back to
  std::string pending_shown_;
  // Normalised addresses of envelope_.recipients: a recipient named twice
  // in one transaction is delivered once (as Postfix's duplicate filter
  // does), so 100 RCPTs of one address cannot write 100 copies.
  std::set<std::string> recipients_seen_;
  std::string body_;
  DotDecoder decoder_;
  BdatReader bdat_;
  bool bdat_used_ = false;
  State bdat_return_ = State::greeted;  // where a skipped chunk goes back to
  std::optional<Reply> bdat_deferred_;  // refusal sent once a skipped chunk is read
  std::size_t messages_ = 0;            // committed in this session
};

// Overwrites a string that held secret material before it is released.
void wipe(std::string& secret);

// Quoted, sanitised value for a key=value log field.
std::string quote_field(std::string_view value);

}  // namespace postern::smtp
