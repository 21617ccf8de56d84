// What a reply means for the walk, and the plain words for each diagnosis
// (SPEC §3.1). Pure functions: the walker feeds them what it saw; the
// tests feed them replies from real servers' documentation.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "probe/probe.hpp"
#include "smtp/client_session.hpp"

namespace postern::probe {

// The EHLO keywords the walk cares about (RFC 5321 §4.1.1.1).
struct EhloInfo {
  bool starttls = false;                  // RFC 3207
  std::vector<std::string> auth;          // RFC 4954, uppercased; "AUTH=" lines too
  std::optional<std::size_t> size_limit;  // RFC 1870
  bool size = false;                      // RFC 1870, with or without a limit
  bool eightbitmime = false;              // RFC 6152
  bool smtputf8 = false;                  // RFC 6531
};
EhloInfo parse_ehlo(const smtp::client::ServerReply& reply);

// The MAIL FROM command for `sender`, with the parameters the server
// offered and the transaction needs: SIZE (RFC 1870 §6) and BODY=8BITMIME
// (RFC 6152) when a message is sent, SMTPUTF8 (RFC 6531 §3.4) when an
// address is not ASCII.
std::string mail_command(const std::string& sender, const std::vector<std::string>& recipients,
                         const std::optional<std::string>& message, const EhloInfo& ehlo);

// "5.7.1" from "554 5.7.1 ..." (RFC 3463), or "".
std::string enhanced_code(const smtp::client::ServerReply& reply);

Diagnosis classify_banner(const smtp::client::ServerReply& reply);
Diagnosis classify_auth(const smtp::client::ServerReply& reply);
Diagnosis classify_mail(const smtp::client::ServerReply& reply);
Diagnosis classify_rcpt(const smtp::client::ServerReply& reply);
Diagnosis classify_data(const smtp::client::ServerReply& reply);

// The SASL mechanism the walk uses from what the server offers: PLAIN
// (RFC 4616) before LOGIN; "" when neither is offered.
std::string choose_mechanism(const std::vector<std::string>& offered);

// Fills result.explanation and result.advice for result.diagnosis, from
// what the walk recorded (port, certificate names, mechanisms, the
// server's reply) and the options it ran with.
void explain(ProbeResult& result, const ProbeOptions& options);

}  // namespace postern::probe
