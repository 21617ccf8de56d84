// The policy a `postern sendmail` submission meets before it is stored: its
// envelope is checked as RCPT would check it (SPEC §1.5: unknown local users
// are refused at once, not bounced later), then the message is prepared as
// an SMTP submission's would be (control/local_submission.hpp). Pure: the
// control socket's driver (net/control_server.cpp) only carries the bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "control/control_protocol.hpp"
#include "control/local_submission.hpp"
#include "core/envelope.hpp"
#include "policy/directory.hpp"

namespace postern::control {

struct LocalMessage {
  Envelope envelope;
  std::string data;  // as it will be stored
};

// The checked envelope (helo "local", no client address), or the refusal
// to answer with.
std::variant<Envelope, Response> check_local_envelope(const SubmitEnvelope& in,
                                                      const policy::Directory& directory,
                                                      std::size_t max_recipients);

// check_local_envelope(), then prepare_local_message(); eight_bit and
// smtputf8 are set from what the envelope and data contain.
std::variant<LocalMessage, Response> prepare_local_submission(const SubmitEnvelope& in,
                                                              std::string_view message,
                                                              const LocalOrigin& origin,
                                                              const policy::Directory& directory,
                                                              std::size_t max_recipients);

}  // namespace postern::control
