#include "smtp/replies.hpp"

#include <fmt/format.h>

namespace postern::smtp {
namespace {

std::string_view subject_detail(Status status) {
  switch (status) {
    case Status::none:
      return "";
    case Status::other:
      return "0.0";
    case Status::bad_mailbox:
      return "1.1";
    case Status::bad_destination_syntax:
      return "1.3";
    case Status::destination_valid:
      return "1.5";
    case Status::bad_sender_syntax:
      return "1.7";
    case Status::sender_valid:
      return "1.0";
    case Status::system_other:
      return "3.0";
    case Status::system_storage:
      return "3.1";
    case Status::message_too_big:
      return "3.4";
    case Status::connection_dropped:
      return "4.2";
    case Status::media_other:
      return "6.0";
    case Status::invalid_command:
      return "5.1";
    case Status::syntax_error:
      return "5.2";
    case Status::too_many_recipients:
      return "5.3";
    case Status::invalid_arguments:
      return "5.4";
    case Status::security_other:
      return "7.0";
    case Status::not_authorized:
      return "7.1";
    case Status::bad_credentials:
      return "7.8";
    case Status::encryption_required:
      return "7.11";
  }
  return "0.0";
}

}  // namespace

std::string enhanced(int code, Status status) {
  if (status == Status::none) return {};
  return fmt::format("{}.{}", code / 100, subject_detail(status));
}

Reply make_reply(int code, Status status, std::string text) {
  return Reply(code, enhanced(code, status), std::move(text));
}

Reply make_reply(int code, Status status, std::vector<std::string> lines) {
  return Reply(code, enhanced(code, status), std::move(lines));
}

namespace replies {

// The 220 greeting carries no enhanced code: RFC 2034 §3 adds them to
// replies to commands, and the greeting answers none.
Reply banner(std::string_view hostname) {
  return make_reply(220, Status::none, fmt::format("{} ESMTP postern", hostname));
}
Reply ehlo(std::vector<std::string> lines) {
  return make_reply(250, Status::none, std::move(lines));
}
Reply helo(std::string_view hostname) {
  return make_reply(250, Status::none, std::string(hostname));
}
Reply refused(std::string_view text) {
  return make_reply(421, Status::security_other, std::string(text));
}

Reply ok() {
  return make_reply(250, Status::other, "Ok");
}
Reply mail_ok() {
  return make_reply(250, Status::sender_valid, "Ok");
}
Reply rcpt_ok() {
  return make_reply(250, Status::destination_valid, "Ok");
}
Reply queued(std::string_view id) {
  return make_reply(250, Status::other, fmt::format("Ok: queued as {}", id));
}
Reply chunk_received(std::size_t octets) {
  return make_reply(250, Status::other, fmt::format("{} octets received", octets));
}
Reply start_data() {
  return make_reply(354, Status::none, "End data with <CR><LF>.<CR><LF>");
}
Reply bye() {
  return make_reply(221, Status::other, "Bye");
}
// Answering VRFY truthfully would let anyone harvest addresses (RFC 5321
// §7.3); 252 is the answer §3.5.3 provides for "cannot verify".
Reply vrfy() {
  return make_reply(252, Status::syntax_error,
                    "Cannot VRFY user, but will accept message and attempt delivery");
}
Reply expn_disabled() {
  return make_reply(502, Status::invalid_command, "EXPN not supported");
}
Reply help() {
  return make_reply(214, Status::other, "See https://www.rfc-editor.org/rfc/rfc5321");
}

Reply ready_for_tls() {
  return make_reply(220, Status::other, "Ready to start TLS");
}
Reply tls_already_active() {
  return make_reply(503, Status::invalid_command, "TLS already active");
}
Reply starttls_not_offered() {
  return make_reply(502, Status::invalid_command, "STARTTLS not offered on this port");
}
Reply tls_not_available() {
  return make_reply(454, Status::security_other, "TLS not available");
}
Reply must_starttls() {
  return make_reply(530, Status::security_other, "Must issue a STARTTLS command first");
}

Reply auth_required() {
  return make_reply(530, Status::security_other, "Authentication required");
}
Reply auth_not_enabled() {
  return make_reply(503, Status::invalid_command, "Error: authentication not enabled");
}
Reply auth_encryption_required() {
  return make_reply(538, Status::encryption_required,
                    "Encryption required for requested authentication mechanism");
}
Reply already_authenticated() {
  return make_reply(503, Status::invalid_command, "Error: already authenticated");
}
Reply auth_in_transaction() {
  return make_reply(503, Status::invalid_command, "Error: MAIL transaction in progress");
}
Reply auth_unknown_mechanism() {
  return make_reply(504, Status::invalid_arguments, "Unrecognized authentication type");
}
Reply auth_challenge(std::string_view base64) {
  return make_reply(334, Status::none, std::string(base64));
}
Reply auth_aborted() {
  return make_reply(501, Status::security_other, "Authentication aborted");
}
Reply auth_cannot_decode() {
  return make_reply(501, Status::syntax_error, "Cannot decode response");
}
Reply auth_ok() {
  return make_reply(235, Status::security_other, "Authentication successful");
}
Reply auth_invalid() {
  return make_reply(535, Status::bad_credentials, "Authentication credentials invalid");
}
Reply auth_throttled() {
  return make_reply(454, Status::security_other,
                    "Too many authentication failures, try again later");
}
Reply user_rate_limited(bool recipients, std::string_view limit, long retry_after_seconds) {
  // RFC 5321 §4.2.5: 450 is "mailbox unavailable"; RFC 3463 X.7.1
  // "delivery not authorized". A client retries a 4xx; the text says when.
  return make_reply(450, Status::not_authorized,
                    fmt::format("{} limit reached for this user ({}); try again in {} seconds",
                                recipients ? "Recipient" : "Message", limit, retry_after_seconds));
}
Reply auth_temporary_failure() {
  return make_reply(454, Status::security_other, "Temporary authentication failure");
}

Reply send_helo_first() {
  return make_reply(503, Status::invalid_command, "Error: send HELO/EHLO first");
}
Reply send_ehlo_first() {
  return make_reply(503, Status::invalid_command, "Error: send EHLO first");
}
Reply nested_mail() {
  return make_reply(503, Status::invalid_command, "Error: nested MAIL command");
}
Reply need_mail() {
  return make_reply(503, Status::invalid_command, "Error: need MAIL command");
}
Reply need_rcpt() {
  return make_reply(503, Status::invalid_command, "Error: need RCPT command");
}
Reply data_after_bdat() {
  return make_reply(503, Status::invalid_command, "Error: DATA not allowed after BDAT");
}
Reply bad_sender_syntax() {
  return make_reply(501, Status::bad_sender_syntax, "Bad sender address syntax");
}
Reply bad_recipient_syntax() {
  return make_reply(501, Status::bad_destination_syntax, "Bad recipient address syntax");
}
Reply unsupported_option(std::string_view name) {
  return make_reply(555, Status::invalid_arguments, fmt::format("Unsupported option: {}", name));
}
Reply message_too_big() {
  return make_reply(552, Status::message_too_big,
                    "Message size exceeds fixed maximum message size");
}
Reply sender_not_owned() {
  return make_reply(553, Status::not_authorized, "Sender address not owned by user");
}
Reply header_sender_not_owned(std::string_view field, std::string_view address) {
  return make_reply(550, Status::not_authorized,
                    fmt::format("<{}>: {} address not owned by user", address, field));
}
Reply user_unknown(std::string_view address) {
  return make_reply(550, Status::bad_mailbox,
                    fmt::format("<{}>: Recipient address rejected: User unknown", address));
}
Reply recipient_lookup_failed(std::string_view address) {
  return make_reply(451, Status::system_other,
                    fmt::format("<{}>: Recipient address lookup failed, try again later", address));
}
Reply relay_denied(std::string_view address) {
  return make_reply(554, Status::not_authorized, fmt::format("<{}>: Relay access denied", address));
}
Reply too_many_recipients() {
  return make_reply(452, Status::too_many_recipients, "Error: too many recipients");
}
Reply storage_failure() {
  return make_reply(452, Status::system_storage, "Insufficient system storage");
}
Reply content_refused(std::string_view why) {
  return make_reply(550, Status::media_other, std::string(why));
}

Reply syntax(std::string_view usage) {
  return make_reply(501, Status::invalid_arguments, fmt::format("Syntax: {}", usage));
}
Reply unknown_command() {
  return make_reply(500, Status::invalid_command, "Error: command not recognized");
}
Reply nul_in_command() {
  return make_reply(500, Status::invalid_command, "Error: NUL character in command");
}
Reply line_too_long() {
  return make_reply(500, Status::syntax_error, "Error: line too long");
}
Reply too_many_errors(std::string_view hostname) {
  return make_reply(421, Status::security_other,
                    fmt::format("{} Error: too many errors", hostname));
}
Reply timeout(std::string_view hostname) {
  return make_reply(421, Status::connection_dropped,
                    fmt::format("{} Error: timeout exceeded", hostname));
}
Reply not_smtp(std::string_view hostname) {
  return make_reply(421, Status::security_other,
                    fmt::format("{} Error: this is an SMTP server, not HTTP", hostname));
}

}  // namespace replies
}  // namespace postern::smtp
