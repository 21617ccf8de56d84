// The envelope sender (and, for a smarthost, optionally the header From:)
// a message leaves with. Two rewrites, both only on the way out:
//
// - SRS (SPEC §1.9): mail that came in from another server and goes out
//   again because an alias forwards it would fail SPF at the destination
//   under its original sender's domain. It leaves with an SRS0 address of
//   ours instead. "Forwarded" means: a non-null sender outside our domains,
//   received from a client that was neither authenticated nor local
//   (sendmail) nor in relay_networks, since only an alias can send such mail
//   to a remote domain (anything else is refused as relaying).
// - The smarthost map ([addresses.smarthost_senders]): providers often
//   refuse any sender their account does not own ("553 5.7.1 Sender address
//   not owned by user"); the map names the address to use instead, by exact
//   address, then "@domain", then "*". Applied only when the smarthost is the
//   next hop.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "addresses/srs.hpp"
#include "config/config.hpp"
#include "core/envelope.hpp"

namespace postern::addresses {

struct OutboundSenderRules {
  std::vector<std::string> local_domains;  // lowercased
  std::vector<config::Network> relay_networks;
  SrsKey srs;                                            // no secrets = no SRS
  std::map<std::string, std::string> smarthost_senders;  // keys lowercased
  bool smarthost_rewrite_from = false;

  static OutboundSenderRules from_config(const config::Config& config,
                                         std::vector<std::string> srs_secrets);

  // True when the envelope is forwarded mail in the sense above.
  bool forwarded(const Envelope& e) const;
  // MAIL FROM for this envelope, towards the smarthost or not.
  std::string envelope_sender(const Envelope& e, bool smarthost,
                              std::chrono::system_clock::time_point now) const;
  // The smarthost map's answer for `address`, or nullopt.
  std::optional<std::string> smarthost_sender(std::string_view address) const;
  // With smarthost_rewrite_from, the message with the address of its first
  // From: replaced by the map's answer (display name kept); nullopt when
  // nothing changes. A DKIM signature over From: no longer verifies after
  // this (docs/addresses.md).
  std::optional<std::string> rewrite_header_from(std::string_view data) const;
};

}  // namespace postern::addresses
