// Delivers to local mailboxes: each recipient's Maildir under mail_root.
#pragma once

#include <filesystem>

#include "delivery/courier.hpp"

namespace postern::delivery {

class LocalCourier final : public Courier {
 public:
  explicit LocalCourier(std::filesystem::path mail_root) : mail_root_(std::move(mail_root)) {}
  std::vector<RecipientResult> deliver(const spool::QueuedMessage& message, std::string_view data,
                                       const std::vector<std::size_t>& recipients) override {
    return deliver(message, data, recipients, false);
  }
  // `unrecorded` says that an earlier attempt may have delivered without
  // the queue knowing (the message was resumed at start-up, or recording
  // results failed): then the mailbox's cur/ is searched too, not only
  // new/ (maildir.hpp, deliver_once_to_maildir).
  std::vector<RecipientResult> deliver(const spool::QueuedMessage& message, std::string_view data,
                                       const std::vector<std::size_t>& recipients, bool unrecorded);

 private:
  std::filesystem::path mail_root_;
};

}  // namespace postern::delivery
