// The SMTP envelope of one message, as the server accepted it.
#pragma once

#include <string>
#include <vector>

namespace postern {

struct Recipient {
  std::string address;  // as accepted, without angle brackets
  std::string notify;   // DSN NOTIFY= value (RFC 3461 §4.1), empty when absent
  std::string orcpt;    // DSN ORCPT= value (RFC 3461 §4.2), empty when absent
};

struct Envelope {
  std::string mail_from;  // empty string is the null sender <>
  std::vector<Recipient> recipients;
  std::string auth_user;   // authenticated submitter, empty when none
  std::string client_ip;   // who handed us the message
  std::string helo;        // what the client said in EHLO/HELO
  bool smtputf8 = false;   // RFC 6531 SMTPUTF8 parameter on MAIL
  bool eight_bit = false;  // BODY=8BITMIME (RFC 6152)
  std::string dsn_ret;     // RET=FULL|HDRS (RFC 3461 §4.3), empty when absent
  std::string dsn_envid;   // ENVID= (RFC 3461 §4.4), empty when absent
  // DMARC p=quarantine failure under dmarc_policy = "enforce" (SPEC §1.8):
  // local delivery files it in the mailbox's Junk folder (.Junk/).
  bool junk = false;
};

}  // namespace postern
