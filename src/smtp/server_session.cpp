// The SMTP server state machine. Every rule of SPEC §1.1-1.3 that concerns
// the dialogue lives here; the network driver only moves bytes.
//
// Shape (STYLE.md): one command table saying for every verb whether it is
// allowed before TLS on a starttls-required listener and whether it must end
// a pipeline group; each handler checks first and only then changes state.
#include "smtp/server_session.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>

#include "message/trace_headers.hpp"
#include "obs/log.hpp"
#include "policy/address.hpp"
#include "policy/relay.hpp"
#include "sasl/sasl.hpp"
#include "smtp/dot_decoder.hpp"

namespace postern::smtp {
namespace {

// Input we hold while waiting for a line end or while paused. Pipelined
// commands beyond this wait in the kernel's socket buffer (the driver reads
// only when the session wants input).
constexpr std::size_t kMaxBufferedInput = kMaxCommandLine + 64 * 1024;
// RFC 3030 does not bound a chunk; the message size limit does.

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && upper(s.substr(0, prefix.size())) == prefix;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Quotes a value for a key=value log field.
std::string q(std::string_view s) {
  return "\"" + obs::sanitize(s) + "\"";
}

enum class Mode { command, data, bdat, auth_response };
enum class Pending { none, tls, auth, commit };
enum class AuthStep { plain, login_user, login_password };

struct MailParams {
  std::optional<std::size_t> size;
  bool eight_bit = false;
  bool smtputf8 = false;
  std::string ret;
  std::string envid;
};

}  // namespace

struct ServerSession::Impl {
  SessionSettings s;
  const policy::Directory& dir;
  std::vector<Action> actions;

  std::string in;  // unprocessed input
  Mode mode = Mode::command;
  Pending pending = Pending::none;
  bool closed = false;
  bool started = false;
  bool saw_input = false;
  bool discarding_long_line = false;
  std::size_t errors = 0;

  // Connection-level state, reset by STARTTLS.
  bool tls_active = false;
  TlsInfo tls;
  std::string helo;
  bool esmtp = false;
  std::string user;  // authenticated user

  // AUTH exchange in progress.
  AuthStep auth_step = AuthStep::plain;
  std::string auth_mechanism;
  std::string login_user;

  // Transaction.
  bool has_mail = false;
  Envelope envelope;
  std::size_t rejected_rcpts = 0;
  std::string body;
  DotDecoder decoder;
  bool bdat_used = false;
  bool bdat_last = false;
  bool bdat_overflow = false;
  std::size_t bdat_remaining = 0;
  std::size_t messages = 0;

  Impl(SessionSettings settings, const policy::Directory& d) : s(std::move(settings)), dir(d) {}

  // ---- output --------------------------------------------------------------

  void reply(int code, std::string_view status, std::string text) {
    actions.emplace_back(SendReply{Reply(code, std::string(status), std::move(text)).render()});
    if (code >= 500) ++errors;
  }
  void reply_lines(int code, std::vector<std::string> lines) {
    actions.emplace_back(SendReply{Reply(code, "", std::move(lines)).render()});
  }
  void log(std::string event, std::string fields, bool warning = false) {
    actions.emplace_back(
        LogEvent{std::move(event), "session=" + s.session_id + " " + fields, warning});
  }
  void close(std::string reason) {
    if (closed) return;
    closed = true;
    in.clear();
    actions.emplace_back(Close{std::move(reason)});
  }
  // A rejection that an operator wants to see in the log.
  void reject(std::string_view cmd, int code, std::string_view status, std::string text) {
    log("reject", fmt::format("client={} cmd={} from=<{}> reply={}", s.client_ip, cmd,
                              obs::sanitize(envelope.mail_from),
                              q(fmt::format("{} {} {}", code, status, text))));
    reply(code, status, std::move(text));
  }
  // After a reply that counted as an error, enforce the limit (SPEC §1.2).
  void check_error_limit() {
    if (!closed && errors >= s.limits.max_errors) {
      log("reject",
          fmt::format("client={} reason=\"too many errors\" errors={}", s.client_ip, errors), true);
      reply(421, "4.7.0", s.hostname + " Error: too many errors");
      close("too many errors");
    }
  }

  // ---- state helpers -------------------------------------------------------

  bool tls_required_now() const { return s.tls == TlsMode::starttls_required && !tls_active; }

  bool auth_offered() const {
    if (s.role != Role::submission) return false;
    return tls_active || s.insecure_auth;
  }

  bool starttls_offered() const {
    return (s.tls == TlsMode::starttls || s.tls == TlsMode::starttls_required) && !tls_active &&
           s.tls_available;
  }

  void reset_transaction() {
    has_mail = false;
    envelope = Envelope{};
    rejected_rcpts = 0;
    body.clear();
    body.shrink_to_fit();
    decoder.reset();
    bdat_used = false;
    bdat_last = false;
    bdat_overflow = false;
    bdat_remaining = 0;
  }

  void reset_after_tls() {
    helo.clear();
    esmtp = false;
    user.clear();
    reset_transaction();
  }

  // ---- input loop ----------------------------------------------------------

  void feed(std::string_view bytes) {
    if (closed) return;
    if (!saw_input && !bytes.empty()) {
      saw_input = true;
      if (!tls_active && looks_like_tls_client_hello(bytes)) {
        log("reject",
            fmt::format("client={} reason=\"implicit TLS sent to a plaintext/STARTTLS port; the "
                        "client should use STARTTLS or connect to the implicit TLS port\"",
                        s.client_ip),
            true);
        close("tls client hello on a plaintext port");
        return;
      }
    }
    in.append(bytes);
    process();
  }

  void process() {
    while (!closed && pending == Pending::none && !in.empty()) {
      if (mode == Mode::data) {
        if (!process_data()) break;
        continue;
      }
      if (mode == Mode::bdat) {
        process_bdat();
        continue;
      }
      const auto lf = in.find('\n');
      if (lf == std::string::npos) {
        if (in.size() > kMaxCommandLine) {
          // Do not let a line without end grow the buffer (SPEC §1.2).
          in.clear();
          if (!discarding_long_line) {
            discarding_long_line = true;
            reply(500, "5.5.2", "Error: line too long");
            check_error_limit();
          }
        }
        break;
      }
      std::string line = in.substr(0, lf);
      in.erase(0, lf + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (discarding_long_line) {
        discarding_long_line = false;  // the tail of the over-long line
        continue;
      }
      if (line.size() > kMaxCommandLine) {
        reply(500, "5.5.2", "Error: line too long");
        check_error_limit();
        continue;
      }
      if (mode == Mode::auth_response) {
        auth_response(line);
      } else {
        command(line);
      }
      check_error_limit();
    }
    if (!closed && in.size() > kMaxBufferedInput && pending == Pending::none &&
        mode == Mode::command) {
      in.clear();
    }
  }

  // ---- commands ------------------------------------------------------------

  using Handler = void (Impl::*)(std::string_view args);
  struct CommandSpec {
    std::string_view verb;
    Handler handler;
    bool before_tls;  // allowed on a starttls-required listener before TLS
  };

  static const std::array<CommandSpec, 15>& table() {
    // RFC 2920 §3.1: EHLO, HELO, DATA, BDAT LAST, QUIT, STARTTLS, AUTH and
    // NOOP end a pipeline group; the client waits for their replies, which
    // our ordered processing satisfies without special casing.
    static const std::array<CommandSpec, 15> t = {{
        {"EHLO", &Impl::cmd_ehlo, true},
        {"HELO", &Impl::cmd_helo, true},
        {"STARTTLS", &Impl::cmd_starttls, true},
        {"AUTH", &Impl::cmd_auth, false},
        {"MAIL", &Impl::cmd_mail, false},
        {"RCPT", &Impl::cmd_rcpt, false},
        {"DATA", &Impl::cmd_data, false},
        {"BDAT", &Impl::cmd_bdat, false},
        {"RSET", &Impl::cmd_rset, true},
        {"NOOP", &Impl::cmd_noop, true},
        {"QUIT", &Impl::cmd_quit, true},
        {"VRFY", &Impl::cmd_vrfy, true},
        {"EXPN", &Impl::cmd_expn, true},
        {"HELP", &Impl::cmd_help, true},
        {"XCLIENT", &Impl::cmd_unknown, true},
    }};
    return t;
  }

  void command(std::string_view line) {
    if (line.find('\0') != std::string_view::npos) {
      reject("?", 500, "5.5.2", "Error: NUL byte in command");
      return;
    }
    const auto space = line.find(' ');
    const std::string verb = upper(line.substr(0, space));
    const std::string_view args = space == std::string_view::npos ? "" : line.substr(space + 1);
    if (messages == 0 && helo.empty() &&
        (verb == "GET" || verb == "POST" || verb == "HEAD" || verb == "PUT" || verb == "CONNECT" ||
         verb == "OPTIONS")) {
      log("reject", fmt::format("client={} reason=\"HTTP request on an SMTP port\"", s.client_ip),
          true);
      reply(421, "4.7.0", s.hostname + " Error: this is an SMTP server, not HTTP");
      close("http request");
      return;
    }
    for (const auto& spec : table()) {
      if (spec.verb != verb) continue;
      if (!spec.before_tls && tls_required_now()) {
        reply(530, "5.7.0", "Must issue a STARTTLS command first");
        return;
      }
      (this->*spec.handler)(args);
      return;
    }
    cmd_unknown(args);
  }

  void cmd_unknown(std::string_view) { reply(500, "5.5.1", "Error: command not recognized"); }

  void cmd_ehlo(std::string_view args) {
    const auto domain = trim(args);
    if (domain.empty()) {
      reply(501, "5.5.4", "Syntax: EHLO hostname");
      return;
    }
    reset_transaction();
    helo = std::string(domain);
    esmtp = true;
    std::vector<std::string> lines = {s.hostname,
                                      "PIPELINING",
                                      fmt::format("SIZE {}", s.limits.max_message_size),
                                      "8BITMIME",
                                      "ENHANCEDSTATUSCODES",
                                      "SMTPUTF8",
                                      "CHUNKING",
                                      "DSN"};
    if (starttls_offered()) lines.push_back("STARTTLS");
    if (auth_offered()) lines.push_back("AUTH PLAIN LOGIN");
    log("helo", fmt::format("client={} helo={}", s.client_ip, q(helo)));
    reply_lines(250, std::move(lines));
  }

  void cmd_helo(std::string_view args) {
    const auto domain = trim(args);
    if (domain.empty()) {
      reply(501, "5.5.4", "Syntax: HELO hostname");
      return;
    }
    reset_transaction();
    helo = std::string(domain);
    esmtp = false;
    log("helo", fmt::format("client={} helo={}", s.client_ip, q(helo)));
    reply_lines(250, {s.hostname});
  }

  void cmd_starttls(std::string_view args) {
    if (!trim(args).empty()) {
      reply(501, "5.5.4", "Syntax: STARTTLS");
      return;
    }
    if (tls_active) {
      reply(503, "5.5.1", "Error: TLS already active");
      return;
    }
    if (s.tls == TlsMode::none || s.tls == TlsMode::implicit) {
      reply(502, "5.5.1", "Error: STARTTLS not offered on this port");
      return;
    }
    if (!s.tls_available) {
      reply(454, "4.7.0", "TLS not available due to temporary reason");
      return;
    }
    reply(220, "2.0.0", "Ready to start TLS");
    // Everything the client sent after STARTTLS in the same flight was sent
    // in plaintext and must never be executed inside TLS (CVE-2011-0411).
    in.clear();
    pending = Pending::tls;
    actions.emplace_back(StartTls{});
  }

  // AUTH ---------------------------------------------------------------------

  void cmd_auth(std::string_view args) {
    if (s.role != Role::submission) {
      reply(503, "5.5.1", "Error: authentication not enabled");
      return;
    }
    if (!auth_offered()) {
      reply(538, "5.7.11", "Encryption required for requested authentication mechanism");
      return;
    }
    if (!helo.empty() && !esmtp) {
      reply(503, "5.5.1", "Error: send EHLO first");
      return;
    }
    if (helo.empty()) {
      reply(503, "5.5.1", "Error: send EHLO first");
      return;
    }
    if (!user.empty()) {
      reply(503, "5.5.1", "Error: already authenticated");
      return;
    }
    if (has_mail) {
      reply(503, "5.5.1", "Error: MAIL transaction in progress");
      return;
    }
    args = trim(args);
    const auto space = args.find(' ');
    const std::string mech = upper(args.substr(0, space));
    const std::string_view initial =
        space == std::string_view::npos ? std::string_view{} : trim(args.substr(space + 1));
    auth_mechanism = mech;
    if (mech == "PLAIN") {
      auth_step = AuthStep::plain;
      if (initial.empty()) {
        mode = Mode::auth_response;
        reply_lines(334, {""});
        return;
      }
      auth_plain(initial == "=" ? "" : initial);
      return;
    }
    if (mech == "LOGIN") {
      if (initial.empty()) {
        auth_step = AuthStep::login_user;
        mode = Mode::auth_response;
        reply_lines(334, {"VXNlcm5hbWU6"});  // "Username:"
        return;
      }
      auth_step = AuthStep::login_user;
      auth_response(initial);
      return;
    }
    if (mech.empty()) {
      reply(501, "5.5.4", "Syntax: AUTH mechanism");
      return;
    }
    reply(504, "5.5.4", "Unrecognized authentication type");
  }

  void auth_failed_syntax(std::string text) {
    mode = Mode::command;
    log("auth", fmt::format("client={} result=failed method={} reason={}", s.client_ip,
                            auth_mechanism, q(text)));
    reply(501, text == "Authentication aborted" ? "5.7.0" : "5.5.2", std::move(text));
  }

  void auth_response(std::string_view line) {
    if (line == "*") {
      auth_failed_syntax("Authentication aborted");
      return;
    }
    switch (auth_step) {
      case AuthStep::plain:
        auth_plain(line);
        return;
      case AuthStep::login_user: {
        auto decoded = sasl::base64_decode(line);
        if (!decoded || decoded->empty()) {
          auth_failed_syntax("Cannot decode response");
          return;
        }
        login_user = std::move(*decoded);
        auth_step = AuthStep::login_password;
        mode = Mode::auth_response;
        reply_lines(334, {"UGFzc3dvcmQ6"});  // "Password:"
        return;
      }
      case AuthStep::login_password: {
        auto decoded = sasl::base64_decode(line);
        if (!decoded) {
          auth_failed_syntax("Cannot decode response");
          return;
        }
        mode = Mode::command;
        verify(login_user, std::move(*decoded));
        return;
      }
    }
  }

  void auth_plain(std::string_view response) {
    mode = Mode::command;
    auto creds = sasl::decode_plain(response);
    if (!creds) {
      if (!sasl::base64_decode(response)) {
        auth_failed_syntax("Cannot decode response");
      } else {
        log("auth",
            fmt::format("client={} result=failed method=PLAIN reason=\"malformed\"", s.client_ip));
        reply(535, "5.7.8", "Authentication credentials invalid");
      }
      return;
    }
    // RFC 4616 §2: acting as another identity is not something we support.
    if (!creds->authzid.empty() && creds->authzid != creds->authcid) {
      log("auth", fmt::format("client={} result=failed method=PLAIN user={} reason=\"authzid "
                              "differs\"",
                              s.client_ip, q(creds->authcid)));
      reply(535, "5.7.8", "Authentication credentials invalid");
      return;
    }
    verify(creds->authcid, std::move(creds->password));
  }

  void verify(std::string name, std::string password) {
    login_user = name;
    pending = Pending::auth;
    actions.emplace_back(VerifyCredentials{auth_mechanism, std::move(name), std::move(password)});
  }

  void credentials_result(AuthOutcome outcome) {
    if (pending != Pending::auth) return;
    pending = Pending::none;
    const std::string name = std::move(login_user);
    login_user.clear();
    switch (outcome) {
      case AuthOutcome::ok:
        user = name;
        log("auth", fmt::format("client={} result=ok method={} user={}", s.client_ip,
                                auth_mechanism, q(name)));
        reply(235, "2.7.0", "Authentication successful");
        break;
      case AuthOutcome::invalid:
        log("auth",
            fmt::format("client={} result=failed method={} user={} reason=\"invalid "
                        "credentials\"",
                        s.client_ip, auth_mechanism, q(name)),
            true);
        reply(535, "5.7.8", "Authentication credentials invalid");
        break;
      case AuthOutcome::throttled:
        log("auth",
            fmt::format("client={} result=refused method={} user={} reason=\"too many "
                        "failures\"",
                        s.client_ip, auth_mechanism, q(name)),
            true);
        ++errors;
        reply(454, "4.7.0", "Too many authentication failures, try again later");
        break;
      case AuthOutcome::temporary_failure:
        reply(454, "4.7.0", "Temporary authentication failure");
        break;
    }
    check_error_limit();
    process();
  }

  // MAIL ---------------------------------------------------------------------

  std::optional<MailParams> parse_mail_params(std::string_view params, std::string& bad) {
    MailParams p;
    std::size_t pos = 0;
    while (pos < params.size()) {
      while (pos < params.size() && params[pos] == ' ') ++pos;
      if (pos >= params.size()) break;
      auto end = params.find(' ', pos);
      if (end == std::string_view::npos) end = params.size();
      const std::string_view param = params.substr(pos, end - pos);
      pos = end;
      const auto eq = param.find('=');
      const std::string key = upper(param.substr(0, eq));
      const std::string_view value = eq == std::string_view::npos ? "" : param.substr(eq + 1);
      if (key == "SIZE") {
        if (value.empty() || value.size() > 19 ||
            !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
          bad = std::string(param);
          return std::nullopt;
        }
        p.size = std::stoull(std::string(value));
      } else if (key == "BODY") {
        const std::string v = upper(value);
        if (v == "8BITMIME") {
          p.eight_bit = true;
        } else if (v != "7BIT") {
          bad = std::string(param);
          return std::nullopt;
        }
      } else if (key == "SMTPUTF8" && eq == std::string_view::npos) {
        p.smtputf8 = true;
      } else if (key == "RET") {
        const std::string v = upper(value);
        if (v != "FULL" && v != "HDRS") {
          bad = std::string(param);
          return std::nullopt;
        }
        p.ret = v;
      } else if (key == "ENVID" && !value.empty() && value.size() <= 100) {
        p.envid = std::string(value);
      } else if (key == "AUTH" && !value.empty()) {
        // RFC 4954 §5: accepted and not trusted; we know who authenticated.
      } else {
        bad = std::string(param.substr(0, eq));
        return std::nullopt;
      }
    }
    return p;
  }

  // Splits "FROM:<addr> PARAMS" into the path and its parameters; tolerates
  // the space some clients put after the colon.
  static bool split_path(std::string_view args, std::string_view keyword, std::string_view& path,
                         std::string_view& params) {
    if (!starts_with_ci(args, keyword)) return false;
    args.remove_prefix(keyword.size());
    args = trim(args);
    if (args.empty() || args.front() != '<') return false;
    // The path ends at the first '>' outside a quoted local part.
    bool quoted = false;
    std::size_t end = std::string_view::npos;
    for (std::size_t i = 1; i < args.size(); ++i) {
      if (args[i] == '\\' && quoted) {
        ++i;
      } else if (args[i] == '"') {
        quoted = !quoted;
      } else if (args[i] == '>' && !quoted) {
        end = i;
        break;
      }
    }
    if (end == std::string_view::npos) return false;
    path = args.substr(0, end + 1);
    params = trim(args.substr(end + 1));
    return true;
  }

  void cmd_mail(std::string_view args) {
    if (helo.empty()) {
      reply(503, "5.5.1", "Error: send HELO/EHLO first");
      return;
    }
    if (has_mail) {
      reply(503, "5.5.1", "Error: nested MAIL command");
      return;
    }
    if (s.role == Role::submission && user.empty()) {
      reject("MAIL", 530, "5.7.0", "Authentication required");
      return;
    }
    std::string_view path_text, params_text;
    if (!split_path(args, "FROM:", path_text, params_text)) {
      reply(501, "5.5.4", "Syntax: MAIL FROM:<address>");
      return;
    }
    std::string bad;
    auto params = parse_mail_params(params_text, bad);
    if (!params) {
      reply(555, "5.5.4", "Unsupported option: " + obs::sanitize(bad, 60));
      return;
    }
    auto path = policy::parse_path(path_text, params->smtputf8);
    if (!path || path->source_route) {
      reply(501, "5.1.7", "Bad sender address syntax");
      return;
    }
    if (params->size && *params->size > s.limits.max_message_size) {
      reject("MAIL", 552, "5.3.4", "Message size exceeds fixed maximum message size");
      return;
    }
    const std::string sender = path->null ? "" : path->mailbox.text();
    if (s.role == Role::submission && !path->null && !dir.user_owns_sender(user, sender)) {
      log("reject", fmt::format("client={} cmd=MAIL user={} from=<{}> reply=\"553 5.7.1 Sender "
                                "address not owned by user\"",
                                s.client_ip, q(user), obs::sanitize(sender)));
      reply(553, "5.7.1", "Sender address not owned by user");
      return;
    }
    if (path->null && !user.empty()) {
      log("null_sender", fmt::format("client={} user={}", s.client_ip, q(user)));
    }
    has_mail = true;
    envelope.mail_from = sender;
    envelope.smtputf8 = params->smtputf8;
    envelope.eight_bit = params->eight_bit;
    envelope.dsn_ret = params->ret;
    envelope.dsn_envid = params->envid;
    envelope.auth_user = user;
    envelope.client_ip = s.client_ip;
    envelope.helo = helo;
    reply(250, "2.1.0", "Ok");
  }

  // RCPT ---------------------------------------------------------------------

  void cmd_rcpt(std::string_view args) {
    if (!has_mail) {
      reply(503, "5.5.1", "Error: need MAIL command");
      return;
    }
    std::string_view path_text, params_text;
    if (!split_path(args, "TO:", path_text, params_text)) {
      reply(501, "5.5.4", "Syntax: RCPT TO:<address>");
      return;
    }
    Recipient rcpt;
    std::size_t pos = 0;
    while (pos < params_text.size()) {
      while (pos < params_text.size() && params_text[pos] == ' ') ++pos;
      if (pos >= params_text.size()) break;
      auto end = params_text.find(' ', pos);
      if (end == std::string_view::npos) end = params_text.size();
      const auto param = params_text.substr(pos, end - pos);
      pos = end;
      const auto eq = param.find('=');
      const std::string key = upper(param.substr(0, eq));
      const auto value = eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
      if (key == "NOTIFY" && !value.empty()) {
        rcpt.notify = upper(value);
      } else if (key == "ORCPT" && !value.empty() && value.size() <= 500) {
        rcpt.orcpt = std::string(value);
      } else {
        reply(555, "5.5.4", "Unsupported option: " + obs::sanitize(param.substr(0, eq), 60));
        return;
      }
    }
    auto path = policy::parse_path(path_text, envelope.smtputf8 || true);
    if (!path || path->null) {
      reply(501, "5.1.3", "Bad recipient address syntax");
      return;
    }
    const std::string shown = path->mailbox.text();
    if (envelope.recipients.size() >= s.limits.max_recipients) {
      reply(452, "4.5.3", "Error: too many recipients");
      return;
    }
    // Submission users may send anywhere (SPEC §1.1); relay clients only to
    // our mailboxes unless relay_networks trusts them.
    const bool may_relay = !user.empty() || s.client_in_relay_networks;
    const auto verdict = policy::check_recipient(*path, dir, may_relay);
    if (verdict == policy::RcptVerdict::unknown_user) {
      ++rejected_rcpts;
      log("reject",
          fmt::format("client={} cmd=RCPT from=<{}> to=<{}> reply=\"550 5.1.1 User "
                      "unknown\"",
                      s.client_ip, obs::sanitize(envelope.mail_from), obs::sanitize(shown)));
      reply(550, "5.1.1",
            "<" + obs::sanitize(shown) + ">: Recipient address rejected: User unknown");
      return;
    }
    if (verdict == policy::RcptVerdict::relay_denied) {
      ++rejected_rcpts;
      log("reject",
          fmt::format("client={} cmd=RCPT from=<{}> to=<{}> reply=\"554 5.7.1 Relay "
                      "access denied\"",
                      s.client_ip, obs::sanitize(envelope.mail_from), obs::sanitize(shown)));
      reply(554, "5.7.1", "<" + obs::sanitize(shown) + ">: Relay access denied");
      return;
    }
    rcpt.address = path->source_route ? path->mailbox.text() : shown;
    envelope.recipients.push_back(std::move(rcpt));
    reply(250, "2.1.5", "Ok");
  }

  // DATA and BDAT -------------------------------------------------------------

  void cmd_data(std::string_view args) {
    if (!trim(args).empty()) {
      reply(501, "5.5.4", "Syntax: DATA");
      return;
    }
    if (!has_mail) {
      reply(503, "5.5.1", "Error: need MAIL command");
      return;
    }
    if (bdat_used) {
      reply(503, "5.5.1", "Error: DATA after BDAT");
      return;
    }
    if (envelope.recipients.empty()) {
      reply(503, "5.5.1", "Error: need RCPT command");
      return;
    }
    mode = Mode::data;
    decoder.reset();
    body.clear();
    reply(354, "", "End data with <CR><LF>.<CR><LF>");
  }

  // Returns false when more input is needed.
  bool process_data() {
    const std::size_t used = decoder.feed(in, body, s.limits.max_message_size);
    in.erase(0, used);
    if (!decoder.done()) return false;
    mode = Mode::command;
    if (decoder.overflowed()) {
      reject("DATA", 552, "5.3.4", "Message size exceeds fixed maximum message size");
      reset_transaction();
      return true;
    }
    commit(std::move(body));
    return true;
  }

  void cmd_bdat(std::string_view args) {
    args = trim(args);
    const auto space = args.find(' ');
    const std::string_view size_text = args.substr(0, space);
    const std::string last =
        space == std::string_view::npos ? "" : upper(trim(args.substr(space + 1)));
    if (size_text.empty() || size_text.size() > 19 ||
        !std::all_of(size_text.begin(), size_text.end(),
                     [](char c) { return c >= '0' && c <= '9'; }) ||
        (!last.empty() && last != "LAST")) {
      reply(501, "5.5.4", "Syntax: BDAT size [LAST]");
      return;
    }
    const std::size_t size = std::stoull(std::string(size_text));
    if (!has_mail || envelope.recipients.empty()) {
      // The chunk's bytes still follow; they must be read and dropped, not
      // parsed as commands (RFC 3030 §3).
      bdat_remaining = size;
      bdat_last = false;
      bdat_overflow = true;
      mode = Mode::bdat;
      pending_bdat_error = has_mail ? "Error: need RCPT command" : "Error: need MAIL command";
      return;
    }
    bdat_used = true;
    bdat_last = last == "LAST";
    bdat_remaining = size;
    mode = Mode::bdat;
    if (size == 0) finish_chunk();
  }

  std::string pending_bdat_error;

  void process_bdat() {
    const std::size_t take = std::min(bdat_remaining, in.size());
    if (!bdat_overflow) {
      if (body.size() + take > s.limits.max_message_size) {
        bdat_overflow = true;
        body.clear();
      } else {
        body.append(in, 0, take);
      }
    }
    in.erase(0, take);
    bdat_remaining -= take;
    if (bdat_remaining == 0) finish_chunk();
  }

  void finish_chunk() {
    mode = Mode::command;
    if (!pending_bdat_error.empty()) {
      reply(503, "5.5.1", std::move(pending_bdat_error));
      pending_bdat_error.clear();
      bdat_overflow = false;
      return;
    }
    if (!bdat_last) {
      if (bdat_overflow) {
        // Keep reading chunks; the error is reported at LAST so the client
        // sees one answer for the message (RFC 3030 §4.2 allows either).
      }
      reply(250, "2.0.0", fmt::format("{} octets received", body.size()));
      return;
    }
    if (bdat_overflow) {
      reject("BDAT", 552, "5.3.4", "Message size exceeds fixed maximum message size");
      reset_transaction();
      return;
    }
    commit(normalize_line_endings(body));
  }

  void commit(std::string data) {
    const std::string protocol = std::string(esmtp ? "ESMTP" : "SMTP") +
                                 (tls_active && esmtp ? "S" : "") + (!user.empty() ? "A" : "");
    message::ReceivedInfo r;
    r.helo = helo;
    r.client_ip = s.client_ip;
    r.hostname = s.hostname;
    r.protocol = protocol;
    r.id = s.session_id;
    r.listener = s.listener;
    r.role = std::string(to_string(s.role));
    if (tls_active) {
      r.tls_version = tls.version;
      r.tls_cipher = tls.cipher;
    }
    r.auth_user = user;
    if (envelope.recipients.size() == 1) r.for_recipient = envelope.recipients[0].address;
    r.when = s.now;
    std::string headers = message::received_header(r);
    if (s.role == Role::submission) {
      // RFC 6409 §8.2, §8.3: a submission server may add what a client left out.
      if (!message::has_header(data, "Date")) {
        headers += "Date: " + message::rfc5322_date(s.now) + "\r\n";
      }
      if (!message::has_header(data, "Message-ID")) {
        const auto secs =
            std::chrono::duration_cast<std::chrono::seconds>(s.now.time_since_epoch()).count();
        headers += fmt::format("Message-ID: <{}.{}.{}@{}>\r\n", s.session_id, messages + 1, secs,
                               s.hostname);
      }
    }
    if (!data.empty() && data.size() >= 2 && data.compare(data.size() - 2, 2, "\r\n") != 0) {
      data += "\r\n";  // a message always ends with a line end
    }
    pending = Pending::commit;
    actions.emplace_back(CommitMessage{envelope, headers + data});
    body.clear();
  }

  void message_committed(std::string_view id) {
    if (pending != Pending::commit) return;
    pending = Pending::none;
    ++messages;
    reply(250, "2.0.0", fmt::format("Ok: queued as {}", id));
    reset_transaction();
    process();
  }

  void message_failed(std::string_view why) {
    if (pending != Pending::commit) return;
    pending = Pending::none;
    log("reject",
        fmt::format("client={} cmd=DATA reason={} reply=\"452 4.3.1\"", s.client_ip, q(why)), true);
    reply(452, "4.3.1", "Insufficient system storage");
    reset_transaction();
    process();
  }

  // Small commands ------------------------------------------------------------

  void cmd_rset(std::string_view) {
    reset_transaction();
    reply(250, "2.0.0", "Ok");
  }
  void cmd_noop(std::string_view) { reply(250, "2.0.0", "Ok"); }
  void cmd_quit(std::string_view) {
    reply(221, "2.0.0", "Bye");
    close("quit");
  }
  void cmd_vrfy(std::string_view) {
    // Answering truthfully would let anyone harvest addresses (RFC 5321 §7.3).
    reply(252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery");
  }
  void cmd_expn(std::string_view) { reply(502, "5.5.1", "EXPN not supported"); }
  void cmd_help(std::string_view) {
    reply(214, "2.0.0",
          "Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY");
  }
};

ServerSession::ServerSession(SessionSettings settings, const policy::Directory& directory)
    : impl_(std::make_unique<Impl>(std::move(settings), directory)) {}

ServerSession::~ServerSession() = default;

void ServerSession::start() {
  Impl& m = *impl_;
  if (m.started || m.closed) return;
  m.started = true;
  if (!m.s.refuse_with.empty()) {
    m.log("reject", fmt::format("client={} reason={}", m.s.client_ip, q(m.s.refuse_with)), true);
    m.reply(421, "4.7.0", m.s.refuse_with);
    m.close("session limit");
    return;
  }
  m.reply_lines(220, {m.s.hostname + " ESMTP postern"});
}

void ServerSession::feed(std::string_view bytes) {
  impl_->feed(bytes);
}

void ServerSession::tls_established(const TlsInfo& info) {
  Impl& m = *impl_;
  m.tls_active = true;
  m.tls = info;
  m.saw_input = true;  // a ClientHello was expected here
  if (m.pending == Pending::tls) {
    m.pending = Pending::none;
    m.reset_after_tls();
    m.in.clear();
  }
}

void ServerSession::tls_failed() {
  impl_->pending = Pending::none;
  impl_->close("tls handshake failed");
}

void ServerSession::credentials_result(AuthOutcome outcome) {
  impl_->credentials_result(outcome);
}
void ServerSession::message_committed(std::string_view id) {
  impl_->message_committed(id);
}
void ServerSession::message_failed(std::string_view why) {
  impl_->message_failed(why);
}

void ServerSession::timeout() {
  Impl& m = *impl_;
  if (m.closed) return;
  m.log("timeout",
        fmt::format("client={} state={}", m.s.client_ip, m.mode == Mode::data ? "DATA" : "command"),
        true);
  m.reply(421, "4.4.2", m.s.hostname + " Error: timeout exceeded");
  m.close("timeout");
}

void ServerSession::peer_closed() {
  Impl& m = *impl_;
  if (m.closed) return;
  if (m.has_mail) {
    m.log("lost",
          fmt::format("client={} reason=\"connection lost during transaction\" "
                      "state={}",
                      m.s.client_ip, m.mode == Mode::data ? "DATA" : "envelope"),
          true);
  }
  m.close("peer closed");
}

void ServerSession::set_now(std::chrono::system_clock::time_point now) {
  impl_->s.now = now;
}

std::vector<Action> ServerSession::take_actions() {
  std::vector<Action> out;
  out.swap(impl_->actions);
  return out;
}

bool ServerSession::wants_input() const {
  return !impl_->closed && impl_->pending == Pending::none;
}
bool ServerSession::closed() const {
  return impl_->closed;
}
std::size_t ServerSession::buffered() const {
  return impl_->in.size();
}
bool ServerSession::receiving_message() const {
  return impl_->mode == Mode::data || impl_->mode == Mode::bdat;
}
std::string_view ServerSession::authenticated_user() const {
  return impl_->user;
}

bool looks_like_tls_client_hello(std::string_view bytes) {
  // TLS record header: content type 22 (handshake), then version 3.x.
  return bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0x16 &&
         static_cast<unsigned char>(bytes[1]) == 0x03 &&
         static_cast<unsigned char>(bytes[2]) <= 0x04;
}

}  // namespace postern::smtp
