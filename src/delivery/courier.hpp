// A courier takes one message to some of its recipients and says, per
// recipient, whether that worked and, if not, whether trying again can help.
// Local Maildir delivery is one; the outbound SMTP courier (MX, smarthost)
// plugs into QueueRunner through the same interface.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/delivery_outcome.hpp"
#include "spool/spool.hpp"

namespace postern::delivery {

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
