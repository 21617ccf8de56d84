#include "control/local_envelope.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "delivery/dsn.hpp"
#include "message/message_text.hpp"
#include "obs/log.hpp"
#include "policy/address.hpp"
#include "policy/relay.hpp"

namespace postern::control {
namespace {

bool has_non_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

}  // namespace

std::variant<Envelope, Response> check_local_envelope(const SubmitEnvelope& in,
                                                      const policy::Directory& directory,
                                                      std::size_t max_recipients,
                                                      std::vector<std::string>* unknown) {
  Envelope envelope;
  if (in.recipients.size() > max_recipients) {
    return error_response(ErrorKind::usage,
                          fmt::format("too many recipients (at most {})", max_recipients));
  }
  if (!in.sender.empty()) {
    const auto parsed = policy::parse_path("<" + in.sender + ">", true);
    if (!parsed || parsed->null || parsed->source_route) {
      return error_response(ErrorKind::usage,
                            fmt::format("<{}>: bad sender address", obs::sanitize(in.sender)));
    }
    envelope.mail_from = parsed->mailbox.text();
  }
  envelope.smtputf8 = has_non_ascii(envelope.mail_from);
  for (const std::string& r : in.recipients) {
    const auto parsed = policy::parse_path("<" + r + ">", true);
    if (!parsed || parsed->null || parsed->source_route) {
      return error_response(ErrorKind::usage,
                            fmt::format("<{}>: bad recipient address", obs::sanitize(r)));
    }
    // A local user may send anywhere (may_relay), as with Postfix's
    // sendmail; local addresses must exist.
    if (policy::check_recipient(*parsed, directory, true) == policy::RcptVerdict::unknown_user) {
      if (in.bounce_unknown && unknown != nullptr) {
        unknown->push_back(parsed->mailbox.text());
        continue;
      }
      return error_response(
          ErrorKind::nouser,
          fmt::format("<{}>: Recipient address rejected: User unknown", obs::sanitize(r)));
    }
    // Aliases ("root: admin@example.com") and "+tag" resolved here, as the
    // SMTP session does at RCPT; a mailbox reached twice gets one copy.
    for (const std::string& target : directory.expand(parsed->mailbox.text())) {
      const bool seen = std::any_of(
          envelope.recipients.begin(), envelope.recipients.end(), [&](const Recipient& x) {
            return policy::ascii_lower(x.address) == policy::ascii_lower(target);
          });
      if (!seen) envelope.recipients.push_back(Recipient{target, {}, {}});
    }
    envelope.smtputf8 = envelope.smtputf8 || has_non_ascii(r);
  }
  envelope.helo = "local";
  envelope.client_ip = "";
  return envelope;
}

std::optional<Response> check_local_header_senders(std::string_view data,
                                                   const LocalIdentity& identity,
                                                   const policy::Directory& directory) {
  if (identity.trusted) return std::nullopt;
  for (const std::string_view field : {"From", "Sender"}) {
    for (const auto& value : message::header_values(data, field)) {
      for (const auto& address : message::parse_address_list(value)) {
        const std::string a = policy::ascii_lower(address);
        if (a == policy::ascii_lower(identity.default_sender) ||
            a == policy::ascii_lower(identity.user) ||
            directory.user_owns_sender(identity.user, address)) {
          continue;
        }
        return error_response(
            ErrorKind::noperm,
            fmt::format("<{}>: {} address not owned by local user {} ({}); 550 5.7.1",
                        obs::sanitize(address), field, obs::sanitize(identity.login),
                        obs::sanitize(identity.user)));
      }
    }
  }
  return std::nullopt;
}

namespace {

// The RFC 3464 report for recipients refused before queueing (sendmail
// -t), addressed to the sender through the directory like any recipient.
StoredMessage unknown_recipients_bounce(const Envelope& original, std::string_view data,
                                        const std::vector<std::string>& unknown,
                                        const LocalOrigin& origin,
                                        const policy::Directory& directory) {
  delivery::DsnRequest q;
  q.reporting_mta = origin.hostname;
  q.sender = original.mail_from;
  q.queue_id = origin.unique;
  q.arrival = origin.when;
  q.now = origin.when;
  q.message_id = "<" + origin.unique + ".bounce@" + origin.hostname + ">";
  q.original = data;
  for (const auto& u : unknown) {
    delivery::DsnRecipient d;
    d.address = u;
    d.reply = "5.1.1 <" + u + ">: Recipient address rejected: User unknown";
    d.last_attempt = origin.when;
    q.recipients.push_back(std::move(d));
  }
  delivery::Dsn dsn = delivery::build_dsn(q);
  StoredMessage out;
  out.envelope.mail_from = "";  // RFC 5321 §4.5.5: a bounce has the null reverse-path
  for (const auto& t : directory.expand(original.mail_from)) {
    out.envelope.recipients.push_back(Recipient{t, {}, {}});
  }
  out.envelope.helo = "local";
  out.envelope.eight_bit = dsn.eight_bit;
  out.envelope.smtputf8 = has_non_ascii(original.mail_from);
  out.data = std::move(dsn.data);
  return out;
}

}  // namespace

std::variant<LocalMessage, Response> prepare_local_submission(
    const SubmitEnvelope& in, std::string_view message, const LocalOrigin& origin,
    const policy::Directory& directory, std::size_t max_recipients, const LocalIdentity& identity) {
  std::vector<std::string> unknown;
  auto checked = check_local_envelope(in, directory, max_recipients, &unknown);
  if (auto* refusal = std::get_if<Response>(&checked)) return std::move(*refusal);
  LocalMessage out;
  out.envelope = std::move(std::get<Envelope>(checked));
  out.data = prepare_local_message(message, origin);
  if (auto refusal = check_local_header_senders(out.data, identity, directory)) {
    return std::move(*refusal);
  }
  out.envelope.eight_bit = has_non_ascii(out.data);
  if (!unknown.empty()) {
    out.bounced = unknown;
    if (!out.envelope.mail_from.empty()) {
      out.bounce = unknown_recipients_bounce(out.envelope, out.data, unknown, origin, directory);
    }
  }
  return out;
}

}  // namespace postern::control
