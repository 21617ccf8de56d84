#include "control/local_submission.hpp"

#include "control/message_text.hpp"
#include "message/date.hpp"
#include "message/line_endings.hpp"

namespace postern::control {
namespace {

// The hostname goes into header lines: keep it to one printable token.
std::string clean_token(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 255)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u <= 0x20 || u == 0x7f || c == '(' || c == ')' || c == '<' || c == '>') ? '?' : c;
  }
  return out.empty() ? "localhost" : out;
}

}  // namespace

std::string local_received_header(const LocalOrigin& origin) {
  const std::string id = origin.queue_id.empty() ? "" : " id " + clean_token(origin.queue_id);
  return "Received: from local (uid " + std::to_string(origin.uid) + ")\r\n\tby " +
         clean_token(origin.hostname) + " (postern sendmail)" + id + ";\r\n\t" +
         message::rfc5322_date(origin.when) + "\r\n";
}

std::string prepare_local_message(std::string_view message, const LocalOrigin& origin) {
  const std::string body = message::to_crlf_lines(message);
  std::string out = local_received_header(origin);
  if (!has_header(body, "Date")) {
    out += "Date: " + message::rfc5322_date(origin.when) + "\r\n";
  }
  if (!has_header(body, "Message-ID")) {
    out +=
        "Message-ID: <" + clean_token(origin.unique) + "@" + clean_token(origin.hostname) + ">\r\n";
  }
  // Without a header section the message is all body: an empty line keeps
  // its first line from reading as a continuation of our fields.
  if (header_section_end(body) == 0 && !(body.size() >= 2 && body.starts_with("\r\n"))) {
    out += "\r\n";
  }
  out += body;
  return out;
}

}  // namespace postern::control
