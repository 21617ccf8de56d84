#include "control/local_envelope.hpp"

#include <fmt/format.h>

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
                                                      std::size_t max_recipients) {
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
      return error_response(
          ErrorKind::nouser,
          fmt::format("<{}>: Recipient address rejected: User unknown", obs::sanitize(r)));
    }
    envelope.recipients.push_back(Recipient{parsed->mailbox.text(), {}, {}});
    envelope.smtputf8 = envelope.smtputf8 || has_non_ascii(r);
  }
  envelope.helo = "local";
  envelope.client_ip = "";
  return envelope;
}

std::variant<LocalMessage, Response> prepare_local_submission(const SubmitEnvelope& in,
                                                              std::string_view message,
                                                              const LocalOrigin& origin,
                                                              const policy::Directory& directory,
                                                              std::size_t max_recipients) {
  auto checked = check_local_envelope(in, directory, max_recipients);
  if (auto* refusal = std::get_if<Response>(&checked)) return std::move(*refusal);
  LocalMessage out;
  out.envelope = std::move(std::get<Envelope>(checked));
  out.data = prepare_local_message(message, origin);
  out.envelope.eight_bit = has_non_ascii(out.data);
  return out;
}

}  // namespace postern::control
