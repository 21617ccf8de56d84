// One user lookup on Dovecot's auth-master protocol (the auth-userdb
// socket, what Dovecot's own LDA and LMTP use), free of I/O:
//   C: VERSION 1 0 / USER <id> <name> service=smtp
//   S: VERSION 1 x / SPID <pid>
//   S: USER <id> <canonical name> fields...  |  NOTFOUND <id>  |  FAIL <id> reason=...
//
// Why a userdb lookup rather than an LMTP RCPT probe: it asks exactly "does
// this user exist", works whether local delivery is LMTP or our Maildir
// writer, costs Dovecot one passdb-free lookup instead of an LMTP session,
// and its FAIL (database down) is distinct from NOTFOUND, so a broken
// Dovecot can never turn into a wrong 550.
#pragma once

#include <string>
#include <string_view>

#include "dovecot/wire.hpp"

namespace postern::dovecot {

enum class UserVerdict {
  pending,
  exists,     // a mailbox: accept at RCPT
  not_found,  // no such user: 550 5.1.1
  temporary,  // Dovecot could not answer: 451 4.3.0
};

class UserdbDialogue {
 public:
  UserdbDialogue(std::string user, unsigned request_id = 1);

  std::string take_output();
  void feed(std::string_view bytes);
  void peer_closed();

  bool done() const { return verdict_ != UserVerdict::pending; }
  UserVerdict verdict() const { return verdict_; }
  const std::string& reason() const { return reason_; }

 private:
  void on_line(std::string_view line);
  void finish(UserVerdict verdict, std::string reason);

  std::string user_;
  unsigned id_;
  bool version_ok_ = false;
  LineReader reader_;
  std::string output_;
  UserVerdict verdict_ = UserVerdict::pending;
  std::string reason_;
};

}  // namespace postern::dovecot
