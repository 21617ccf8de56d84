// The policy a `postern sendmail` submission meets before it is stored: its
// envelope is checked as RCPT would check it (SPEC §1.5: unknown local users
// are refused at once, not bounced later), then the message is prepared as
// an SMTP submission's would be (control/local_submission.hpp). Pure: the
// control socket's driver (net/control_server.cpp) only carries the bytes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "control/control_protocol.hpp"
#include "control/local_submission.hpp"
#include "core/envelope.hpp"
#include "policy/directory.hpp"

namespace postern::control {

struct StoredMessage {
  Envelope envelope;
  std::string data;  // as it will be stored
};

struct LocalMessage {
  Envelope envelope;  // no recipients when every one was bounced
  std::string data;   // as it will be stored
  // sendmail -t: the report to the sender about recipients that do not
  // exist (RFC 3464), stored after the message; absent when there are none
  // or the sender is <>.
  std::optional<StoredMessage> bounce;
  std::vector<std::string> bounced;  // those recipients
};

// Who runs `postern sendmail` (from the control socket's SO_PEERCRED uid),
// for the From:/Sender: ownership check (SPEC §1.9).
struct LocalIdentity {
  // root and the server's own user: may write any From: (root can read the
  // users file anyway). Others are checked.
  bool trusted = false;
  std::string login;  // "www-data", for messages
  // The login at the default domain ("alice@example.com"): owns what the
  // address book says that address owns (own address, +tags, send-as
  // aliases). A login that is no user there owns only its own addresses.
  std::string user;
  // The default sender sendmail writes ("login@hostname"), always owned.
  std::string default_sender;
};

// The checked envelope (helo "local", no client address), or the refusal
// to answer with. Recipients are expanded through the directory (aliases,
// "+tag"); with in.bounce_unknown an unknown local recipient goes into
// `unknown` instead of refusing the message.
std::variant<Envelope, Response> check_local_envelope(const SubmitEnvelope& in,
                                                      const policy::Directory& directory,
                                                      std::size_t max_recipients,
                                                      std::vector<std::string>* unknown = nullptr);

// The first address of From: or Sender: that `identity` does not own, as a
// refusal (noperm); nullopt when all are owned.
std::optional<Response> check_local_header_senders(std::string_view data,
                                                   const LocalIdentity& identity,
                                                   const policy::Directory& directory);

// check_local_envelope(), prepare_local_message(), the header sender check,
// and the bounce for unknown recipients under -t; eight_bit and smtputf8 are
// set from what the envelope and data contain.
std::variant<LocalMessage, Response> prepare_local_submission(
    const SubmitEnvelope& in, std::string_view message, const LocalOrigin& origin,
    const policy::Directory& directory, std::size_t max_recipients,
    const LocalIdentity& identity = LocalIdentity{true, {}, {}, {}});

}  // namespace postern::control
