// What became of one recipient when a courier (or the SMTP client) tried to
// deliver to it. It lives in core/ because both sides speak it: the pure SMTP
// client reports it per RCPT, the delivery floor schedules retries and
// bounces from it. Transient vs permanent is part of every result (STYLE.md
// habit 8).
#pragma once

#include <string>

namespace postern::delivery {

enum class Outcome {
  delivered,
  transient,  // 4xx, timeouts, local I/O trouble: stays queued and is retried
  permanent,  // 5xx, unusable mailbox: the recipient fails (SPEC §1.5)
};

// What a transient failure says about the destination itself, so that the
// queue runner need not read it out of the reply text.
enum class FailureKind {
  other,        // the destination answered (4xx), or a local error
  unreachable,  // it did not answer: refused, timed out, cut before a command
                // (the reply carries RFC 3463 X.4.1 or X.4.2); marks it dead
};

struct RecipientResult {
  Outcome outcome = Outcome::transient;
  std::string reply;  // the remote reply or local error text, for logs and DSNs
  std::string where;  // the mailbox path or remote host that took (or refused) it
  FailureKind kind = FailureKind::other;
};

}  // namespace postern::delivery
