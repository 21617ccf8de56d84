#include "control/sendmail_message.hpp"

#include <set>

#include "control/message_text.hpp"
#include "core/text.hpp"
#include "message/line_endings.hpp"

namespace postern::control {
namespace {

// RFC 5322 §3.2.3 atext plus the space between words: a display name made
// only of these can go unquoted.
bool is_phrase_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view(" !#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Puts a field at the very top of the header section.
std::string with_field_first(std::string_view message, std::string_view field_line) {
  std::string out(field_line);
  // Content without a header section: our field starts one, and an empty
  // line keeps the content as body.
  if (header_section_end(message) == 0 && !message.starts_with("\r\n")) out += "\r\n";
  out += message;
  return out;
}

}  // namespace

std::string from_field_value(std::string_view full_name, std::string_view address) {
  std::string name;
  for (char c : full_name) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) name += c;  // no CR/LF: it goes into a header line
  }
  while (!name.empty() && name.back() == ' ') name.pop_back();
  while (!name.empty() && name.front() == ' ') name.erase(0, 1);
  if (name.empty()) return std::string(address);
  bool plain = true;
  for (char c : name) plain = plain && is_phrase_char(c);
  if (!plain) {
    std::string quoted = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    name = quoted + "\"";
  }
  return name + " <" + std::string(address) + ">";
}

SendmailMessage prepare_sendmail_message(const SendmailRequest& request) {
  SendmailMessage out;
  std::string message = message::to_crlf_lines(request.message);

  std::vector<std::string> wanted = request.recipients;
  if (request.recipients_from_headers) {
    for (const char* name : {"To", "Cc", "Bcc"}) {
      for (const std::string& value : header_values(message, name)) {
        for (std::string& a : parse_address_list(value)) wanted.push_back(std::move(a));
      }
    }
    // RFC 5322 §3.6.3: how Bcc is handled is up to the sender; removing it
    // everywhere is the choice that never discloses a blind copy.
    message = remove_header(message, "Bcc");
  }
  std::set<std::string> seen;
  for (std::string& r : wanted) {
    if (seen.insert(ascii_lower(r)).second) out.recipients.push_back(std::move(r));
  }
  if (out.recipients.empty()) {
    out.error = request.recipients_from_headers
                    ? "no recipients: none given and none in To:, Cc: or Bcc:"
                    : "no recipients given (name them as arguments, or use -t)";
    return out;
  }
  if (!has_header(message, "From")) {
    message = with_field_first(
        message, "From: " + from_field_value(request.full_name, request.from_address) + "\r\n");
  }
  out.message = std::move(message);
  return out;
}

}  // namespace postern::control
