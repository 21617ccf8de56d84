// Every reply the server session sends, built from a basic code and an
// enhanced status (RFC 3463) — never free text alone (STYLE.md habit 4).
// The texts are part of the contract with the end-to-end tests and with
// operators grepping logs, so they live here in one place.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/reply.hpp"

namespace postern::smtp {

// RFC 3463 subject.detail; the class digit always equals the first digit of
// the basic reply code (RFC 3463 §2), so it is derived, never written.
enum class Status {
  none,                    // 220 banner, 354, 334 and EHLO carry no status
  other,                   // X.0.0
  bad_mailbox,             // X.1.1 bad destination mailbox address
  bad_destination_syntax,  // X.1.3
  destination_valid,       // X.1.5
  bad_sender_syntax,       // X.1.7
  sender_valid,            // X.1.0 other address status
  system_other,            // X.3.0 other or undefined mail system status
  system_storage,          // X.3.1 mail system full
  message_too_big,         // X.3.4 message too big for system
  connection_dropped,      // X.4.2 bad connection
  media_other,             // X.6.0 other or undefined media error (the content)
  invalid_command,         // X.5.1
  syntax_error,            // X.5.2
  too_many_recipients,     // X.5.3
  invalid_arguments,       // X.5.4
  security_other,          // X.7.0
  not_authorized,          // X.7.1 delivery not authorized
  bad_credentials,         // X.7.8 authentication credentials invalid
  encryption_required,     // X.7.11 encryption required for mechanism
};

// "2.1.5" for (250, destination_valid); empty for Status::none.
std::string enhanced(int code, Status status);

Reply make_reply(int code, Status status, std::string text);
Reply make_reply(int code, Status status, std::vector<std::string> lines);

namespace replies {

Reply banner(std::string_view hostname);
Reply ehlo(std::vector<std::string> lines);
Reply helo(std::string_view hostname);
Reply refused(std::string_view text);  // session limits: 421 4.7.0 <text>

Reply ok();       // 250 2.0.0 Ok (RSET, NOOP)
Reply mail_ok();  // 250 2.1.0 Ok
Reply rcpt_ok();  // 250 2.1.5 Ok
Reply queued(std::string_view id);
Reply chunk_received(std::size_t octets);
Reply start_data();     // 354
Reply bye();            // 221
Reply vrfy();           // 252
Reply expn_disabled();  // 502
Reply help();           // 214

Reply ready_for_tls();  // 220 2.0.0
Reply tls_already_active();
Reply starttls_not_offered();
Reply tls_not_available();
Reply must_starttls();  // 530 5.7.0

Reply auth_required();
Reply auth_not_enabled();
Reply auth_encryption_required();
Reply already_authenticated();
Reply auth_in_transaction();
Reply auth_unknown_mechanism();
Reply auth_challenge(std::string_view base64);  // 334
Reply auth_aborted();
Reply auth_cannot_decode();
Reply auth_ok();
Reply auth_invalid();
Reply auth_throttled();
Reply auth_temporary_failure();
// 450 4.7.1: over a per-user limit (SPEC §1.10), with when to retry.
Reply user_rate_limited(bool recipients, std::string_view limit, long retry_after_seconds);

Reply send_helo_first();
Reply send_ehlo_first();
Reply nested_mail();
Reply need_mail();
Reply need_rcpt();
Reply data_after_bdat();
Reply bad_sender_syntax();
Reply bad_recipient_syntax();
Reply unsupported_option(std::string_view name);
Reply message_too_big();
Reply sender_not_owned();
// 550 5.7.1 after DATA: an address in the header From: or Sender: that the
// authenticated user does not own (SPEC §1.9).
Reply header_sender_not_owned(std::string_view field, std::string_view address);
Reply user_unknown(std::string_view address);
// The user database could not be asked (Dovecot down): try later, never 550.
Reply recipient_lookup_failed(std::string_view address);
Reply relay_denied(std::string_view address);
Reply too_many_recipients();
Reply storage_failure();
// 550 5.6.0 <why>: the content itself cannot be accepted (two From: fields
// when the message is to be DKIM-signed).
Reply content_refused(std::string_view why);

Reply syntax(std::string_view usage);  // 501 5.5.4 Syntax: <usage>
Reply unknown_command();
Reply nul_in_command();
Reply line_too_long();
Reply too_many_errors(std::string_view hostname);
Reply timeout(std::string_view hostname);
Reply not_smtp(std::string_view hostname);

}  // namespace replies
}  // namespace postern::smtp
