// What a reply means for the walk, and the plain words for each diagnosis
// (SPEC §3.1). Pure functions: the walker feeds them what it saw; the
// tests feed them replies from real servers' documentation.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "probe/probe.hpp"
#include "smtp/client_commands.hpp"

namespace postern::probe {

// The MAIL FROM command for `sender`, with the parameters the server
// offered and the transaction needs: SIZE (RFC 1870 §6) and BODY=8BITMIME
// (RFC 6152) when a message is sent, SMTPUTF8 (RFC 6531 §3.4) when an
// address is not ASCII. Spelled by smtp::client::mail_from_command, as
// delivery spells it.
std::string mail_command(const std::string& sender, const std::vector<std::string>& recipients,
                         const std::optional<std::string>& message,
                         const smtp::client::Capabilities& caps);

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
