// Header work the server does on a message it accepts: the Received trace
// header (RFC 5321 §4.4), and Date / Message-ID added for submission when
// the client left them out (RFC 6409 §8.2, §8.3).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace postern::message {

struct ReceivedInfo {
  std::string helo;  // what the client said in EHLO/HELO
  std::string client_ip;
  std::string hostname;     // ours
  std::string protocol;     // SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA (RFC 3848)
  std::string id;           // session id
  std::string listener;     // "127.0.0.1:2587"
  std::string role;         // "submission"
  std::string tls_version;  // empty without TLS
  std::string tls_cipher;
  std::string auth_user;      // empty when not authenticated
  std::string for_recipient;  // only when there is exactly one recipient
  std::chrono::system_clock::time_point when{};
};

// RFC 5322 §3.3 date-time in UTC: "Mon, 23 Nov 2026 00:28:32 +0000".
std::string rfc5322_date(std::chrono::system_clock::time_point when);

// A complete, folded "Received: ..." header ending in CRLF.
std::string received_header(const ReceivedInfo& info);

// True when the header section of `message` (up to the first empty line)
// has a field called `name` (case-insensitive, without the colon).
bool has_header(std::string_view message, std::string_view name);

}  // namespace postern::message
