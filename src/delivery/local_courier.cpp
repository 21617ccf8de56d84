#include "delivery/local_courier.hpp"

#include "delivery/maildir.hpp"

namespace postern::delivery {

std::vector<RecipientResult> LocalCourier::deliver(const spool::QueuedMessage& message,
                                                   std::string_view data,
                                                   const std::vector<std::size_t>& recipients,
                                                   bool unrecorded) {
  const auto arrival =
      std::chrono::duration_cast<std::chrono::seconds>(message.arrival.time_since_epoch()).count();
  std::vector<RecipientResult> results;
  results.reserve(recipients.size());
  for (const std::size_t i : recipients) {
    const std::string& address = message.recipients[i].recipient.address;
    RecipientResult r;
    std::filesystem::path mailbox = maildir_for(mail_root_, address);
    if (mailbox.empty()) {
      // Retrying cannot make the name safe (RFC 3463 5.1.3: bad destination
      // mailbox address syntax).
      r.outcome = Outcome::permanent;
      r.reply = "5.1.3 mailbox name is not safe as a folder name";
      results.push_back(std::move(r));
      continue;
    }
    if (message.envelope.junk) {
      // A DMARC p=quarantine failure under dmarc_policy = "enforce".
      std::error_code ec;
      mailbox = junk_folder(mailbox, ec);
      if (ec) {
        r.outcome = Outcome::transient;
        r.reply = "4.3.0 cannot make the Junk folder: " + ec.message();
        results.push_back(std::move(r));
        continue;
      }
    }
    r.where = mailbox.string();
    // The file name is fixed by the queue id and the recipient's place in
    // the message, so a second attempt finds the first one's file.
    const MaildirResult m =
        deliver_once_to_maildir(mailbox, maildir_unique_name(arrival, message.id, i), unrecorded,
                                message.envelope.mail_from, address, data);
    if (m.error) {
      // Disk full, permissions, I/O errors: the operator can fix these, so
      // the message waits (RFC 3463 4.3.0: other mail system problem).
      r.outcome = Outcome::transient;
      r.reply = "4.3.0 cannot write to mailbox: " + m.error.message();
    } else {
      r.outcome = Outcome::delivered;
      r.reply = m.already ? "2.0.0 delivered to maildir (found from an earlier attempt)"
                          : "2.0.0 delivered to maildir";
    }
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace postern::delivery
