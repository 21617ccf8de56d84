// A courier takes one message to some of its recipients and says, per
// recipient, whether that worked and, if not, whether trying again can help.
// Local Maildir delivery is one; the outbound SMTP courier (MX, smarthost)
// plugs into QueueRunner through the same interface.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
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
  using Completion = std::function<void(std::vector<RecipientResult>)>;
  // True when deliver_async() returns at once and calls its completion
  // later from a thread of the courier's own (an event loop): the queue
  // runner then needs no thread per delivery in flight, only a few to
  // prepare jobs and record their results.
  virtual bool asynchronous() const { return false; }
  // Starts delivering `*data` as deliver() would and calls `done` exactly
  // once with its results (never from inside this call for an asynchronous
  // courier). `message` is copied; `data` is kept alive until `done`. The
  // default runs deliver() on the calling thread.
  virtual void deliver_async(const spool::QueuedMessage& message,
                             std::shared_ptr<const std::string> data,
                             std::vector<std::size_t> recipients, Completion done) {
    done(deliver(message, *data, recipients));
  }
  // Makes every deliver() in progress, and any started later, give up soon
  // with transient results (the server is stopping). Thread-safe.
  virtual void cancel() {}

 protected:
  // deliver() for a courier whose real work is deliver_async(): starts it
  // on a copy of `data` and blocks until its completion.
  std::vector<RecipientResult> deliver_and_wait(const spool::QueuedMessage& message,
                                                std::string_view data,
                                                const std::vector<std::size_t>& recipients);
};

}  // namespace postern::delivery
