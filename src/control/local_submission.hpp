// What the server does to a message handed over by `postern sendmail`
// before it goes into the spool: the same care an SMTP submission gets.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace postern::control {

struct LocalOrigin {
  unsigned uid = 0;      // of the submitting process, from SO_PEERCRED
  std::string hostname;  // ours
  // Unique per submission, for the Message-ID's left part.
  std::string unique;
  std::chrono::system_clock::time_point when{};
  // The queue id the message will be stored under (the spool's
  // allocate_id()), named in Received as Postfix names it; empty: left out.
  std::string queue_id;
};

// "Received: from local (uid N)\r\n\tby <hostname> (postern sendmail);
// <date>\r\n" (RFC 5321 §4.4: every hop that accepts a message adds one; a
// local submission has no client address, the uid says who it came from).
std::string local_received_header(const LocalOrigin& origin);

// The message as it will be stored: line ends made CRLF (a client that sent
// bare LF must not smuggle it onward), the Received header first, then
// Date: and Message-ID: when the header section lacks them (RFC 5322 §3.6
// requires both; RFC 6409 §8.2, §8.3 let a submission server add them).
// Content without a header section gets an empty line after the added
// fields so it stays body.
std::string prepare_local_message(std::string_view message, const LocalOrigin& origin);

}  // namespace postern::control
