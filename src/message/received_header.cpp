#include "message/received_header.hpp"

#include <fmt/format.h>

#include "message/date.hpp"

namespace postern::message {
namespace {

// Longest piece of client text we copy into a header line. Four such pieces
// at most share a line, which stays well within 998 octets.
constexpr std::size_t kMaxPart = 200;

// Keeps client text from breaking the header apart (CR, LF, other control
// bytes) or closing or opening a comment; `spaces` false also replaces
// white space, for single tokens such as the HELO name.
std::string clean(std::string_view s, bool spaces) {
  std::string out;
  for (char c : s) {
    if (out.size() >= kMaxPart) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    const bool bad =
        u < 0x20 || u == 0x7f || c == '(' || c == ')' || c == '\\' || (!spaces && c == ' ');
    out += bad ? '?' : c;
  }
  return out;
}

}  // namespace

std::string protocol_name(bool esmtp, bool tls, bool authenticated) {
  if (!esmtp) return "SMTP";
  std::string p = "ESMTP";
  if (tls) p += 'S';
  if (authenticated) p += 'A';
  return p;
}

std::string received_header(const ReceivedInfo& info) {
  const std::string helo = info.helo.empty() ? "unknown" : clean(info.helo, false);
  // Continuation lines start with a tab (folding, RFC 5322 §2.2.3).
  std::string h = fmt::format("Received: from {} ([{}])\r\n\tby {} (postern) with {} id {}\r\n",
                              helo, clean(info.client_ip, false), clean(info.hostname, false),
                              info.protocol, clean(info.id, false));
  std::string details =
      fmt::format("listener {} role {}", clean(info.listener, false), clean(info.role, false));
  if (!info.session.empty()) details += " session " + clean(info.session, false);
  if (!info.tls_version.empty()) {
    details += fmt::format("; {} cipher {}", clean(info.tls_version, false),
                           clean(info.tls_cipher, false));
  }
  if (!info.auth_user.empty()) details += "; authenticated user " + clean(info.auth_user, false);
  h += "\t(" + details + ")\r\n\t";
  if (!info.for_recipient.empty()) h += "for <" + clean(info.for_recipient, true) + ">";
  h += "; " + rfc5322_date(info.when) + "\r\n";
  return h;
}

}  // namespace postern::message
