// One authentication against Dovecot's auth-client socket, free of I/O
// (the sans-I/O shape of STYLE.md): the edge writes what take_output()
// returns, feeds what it reads, and stops when done().
//
// The protocol (Dovecot's "Authentication protocol", the one Postfix's
// smtpd_sasl_type = dovecot speaks):
//   C: VERSION 1 2 / CPID <pid>
//   S: VERSION 1 x / MECH <name> [flags]... / SPID / CUID / COOKIE / DONE
//   C: AUTH <id> <mech> service=smtp nologin lip= rip= [secured] [resp=<b64>]
//   S: CONT <id> <b64 challenge>   C: CONT <id> <b64 response>  (LOGIN)
//   S: OK <id> user=<name> ...     or   FAIL <id> [temp] [reason=...]
// Fields are TAB-separated, lines end in LF. "nologin" asks Dovecot to
// check the credentials only, as an MTA does.
//
// The client's mechanism is passed through: PLAIN goes as one initial
// response, LOGIN as Dovecot's own two challenges.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dovecot/wire.hpp"

namespace postern::dovecot {

struct AuthRequest {
  std::string mechanism;  // "PLAIN" or "LOGIN"
  std::string user;       // authentication identity as the client gave it
  std::string password;   // wiped by the dialogue once sent
  std::string client_ip;  // rip=
  std::string local_ip;   // lip=
  bool secured = false;   // TLS (or a listener trusted as secure)
  unsigned request_id = 1;
  unsigned long client_pid = 0;  // CPID: tells Dovecot which process we are
};

enum class AuthVerdict {
  pending,    // not done yet
  ok,         // credentials valid; user() is Dovecot's name for the user
  invalid,    // credentials refused (535)
  temporary,  // Dovecot could not decide or misbehaved (454)
};

class AuthClientDialogue {
 public:
  explicit AuthClientDialogue(AuthRequest request);
  ~AuthClientDialogue();
  AuthClientDialogue(const AuthClientDialogue&) = delete;
  AuthClientDialogue& operator=(const AuthClientDialogue&) = delete;
  AuthClientDialogue(AuthClientDialogue&&) = default;

  // Bytes to send now; empty when nothing is to be sent. The caller should
  // wipe them after writing (they may hold the password).
  std::string take_output();
  void feed(std::string_view bytes);
  // EOF or a read/write error before the answer.
  void peer_closed();

  bool done() const { return verdict_ != AuthVerdict::pending; }
  AuthVerdict verdict() const { return verdict_; }
  // With ok: the user name Dovecot returned (user=), else the requested one.
  const std::string& user() const { return user_; }
  // Why it failed, for the log (never contains the password).
  const std::string& reason() const { return reason_; }

 private:
  enum class Step { handshake, waiting, finished };

  void on_line(std::string_view line);
  void on_handshake_line(const std::vector<std::string_view>& f);
  void on_reply_line(const std::vector<std::string_view>& f);
  void send_auth();
  void send_continuation(std::string_view challenge);
  void finish(AuthVerdict verdict, std::string reason);

  AuthRequest request_;
  Step step_ = Step::handshake;
  bool version_ok_ = false;
  std::vector<std::string> mechanisms_;
  int continuations_ = 0;  // CONT answered so far
  LineReader reader_;
  std::string output_;
  AuthVerdict verdict_ = AuthVerdict::pending;
  std::string user_;
  std::string reason_;
};

}  // namespace postern::dovecot
