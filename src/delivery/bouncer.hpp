// Sends bounces: builds the RFC 3464 report for the recipients of one
// message that failed in one delivery attempt and submits it to the spool,
// addressed from the null sender to the original sender, so that it is
// delivered like any other message (SPEC §1.5).
//
// Crash safety. A failed recipient first stays pending with its bounce owed
// (spool::RecipientStatus::bounce_owed, durable), then the bounce is submitted
// (durable), and only then is the recipient recorded as failed. A restart
// between the steps finds the mark and sends the bounce again, unless the
// earlier one is still queued: the bounce's Message-ID is derived from the
// original's queue id and the recipients' attempt counts, so it can be
// recognised. Nothing is lost; a duplicate is possible only when the
// earlier bounce was already delivered in the short window between the
// two records.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "spool/spool.hpp"

namespace postern::delivery {

// RFC 3461 §4.1: NOTIFY absent (the default is FAILURE and DELAY, at the
// server's discretion) or containing FAILURE asks for a failure report;
// NEVER or only SUCCESS/DELAY does not.
bool wants_failure_report(std::string_view notify);

// The permanent reply of a recipient that expired in the queue.
std::string expired_reply(int attempts, std::string_view last_error);
bool is_expired_reply(std::string_view reply);

struct BounceRecipient {
  std::size_t index = 0;  // into QueuedMessage::recipients
  std::string reply;
  std::string where;  // remote host, empty for local failures
};

class Bouncer {
 public:
  Bouncer(spool::Spool& spool, std::string hostname)
      : spool_(spool), hostname_(std::move(hostname)) {}

  // Submits one bounce to message.envelope.mail_from (which must not be the
  // null sender) covering `failed`, waits until it is durable and returns
  // its queue id; empty when the spool refused it (logged). With
  // `look_for_earlier`, a bounce for the same failures still in the queue
  // is reused instead of submitting a second one.
  std::string send(const spool::QueuedMessage& message, std::string_view data,
                   const std::vector<BounceRecipient>& failed, bool look_for_earlier);

 private:
  std::string find_queued(const std::string& sender, const std::string& message_id);

  spool::Spool& spool_;
  std::string hostname_;
};

}  // namespace postern::delivery
