// A courier takes one message to some of its recipients and says, per
// recipient, whether that worked and, if not, whether trying again can help.
// Local Maildir delivery is one; the outbound SMTP courier (MX, smarthost)
// plugs into QueueRunner through the same interface.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "spool/spool.hpp"

namespace postern::delivery {

enum class Outcome {
  delivered,
  transient,  // 4xx, timeouts, local I/O trouble: stays queued and is retried
  permanent,  // 5xx, unusable mailbox: the recipient fails (SPEC §1.5)
};

struct RecipientResult {
  Outcome outcome = Outcome::transient;
  std::string reply;  // the remote reply or local error text, for logs and DSNs
  std::string where;  // the mailbox path or remote host that took (or refused) it
};

class Courier {
 public:
  virtual ~Courier() = default;
  // Delivers `data` to message.recipients[i] for each i in `recipients`.
  // Returns exactly one result per entry of `recipients`, in the same order.
  // Runs on a delivery thread and may block.
  virtual std::vector<RecipientResult> deliver(const spool::QueuedMessage& message,
                                               std::string_view data,
                                               const std::vector<std::size_t>& recipients) = 0;
  // Makes every deliver() in progress, and any started later, give up soon
  // with transient results (the server is stopping). Thread-safe.
  virtual void cancel() {}
};

}  // namespace postern::delivery
