// What `postern sendmail` does to the message it reads before handing it to
// the server: the sendmail(8) conventions that applications rely on.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace postern::control {

struct SendmailRequest {
  std::string message;                   // as read from stdin (any line ends)
  std::vector<std::string> recipients;   // from the command line
  bool recipients_from_headers = false;  // -t
  std::string sender;                    // envelope sender (-f, or the default); empty is <>
  std::string from_address;              // for an added From: (the -f address or the default)
  std::string full_name;                 // -F, display name of an added From:
};

struct SendmailMessage {
  std::string message;  // CRLF line ends, From: present, Bcc: gone under -t
  std::vector<std::string> recipients;
  std::string error;  // non-empty when there is nothing to send (no recipients)
};

// -t: recipients are the addresses in To:, Cc: and Bcc: (in addition to
// those given as arguments, as Postfix and Exim do), and Bcc: is removed so
// that blind copies stay blind. From: is added when missing, with the
// display name of -F (RFC 5322 §3.6.2 requires From:). Duplicate recipients
// (compared case-insensitively) are sent to once.
SendmailMessage prepare_sendmail_message(const SendmailRequest& request);

// `Full Name <address>` with the display name quoted when it needs to be
// (RFC 5322 §3.2.5 phrase vs quoted-string); just the address without one.
std::string from_field_value(std::string_view full_name, std::string_view address);

}  // namespace postern::control
