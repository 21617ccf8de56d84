// Per-user limits at MAIL and RCPT (SPEC §1.10). The session knows only
// that limits exist; the driver counts against them (shared state, maybe
// Redis) and answers. A refusal is 450 4.7.1 with when to retry, and a
// `rate_limited` log line an operator can grep:
//   rate_limited session=.. user="bob@example.com" limit=user_messages:5/1m retry_after=42s
// Messages are counted when MAIL is accepted, recipients when a new
// recipient is accepted: what a client was allowed to start counts, even
// if it then resets (a spammer's RSET must not refund the budget).
#include <fmt/format.h>

#include <algorithm>

#include "smtp/replies.hpp"
#include "smtp/session_impl.hpp"

namespace postern::smtp {

void ServerSession::Impl::admit_mail(MailCheck mail) {
  if (!s_.user_rate_limits || user_.empty()) return apply_mail(std::move(mail));
  rate_return_ = state_;
  pending_mail_ = std::move(mail);
  state_ = State::waiting_rate;
  actions_.emplace_back(CheckRate{RateKind::messages, user_});
}

void ServerSession::Impl::admit_rcpt(RcptCheck rcpt) {
  // A repeat of a recipient we have costs nothing (apply_rcpt adds nothing).
  if (!s_.user_rate_limits || user_.empty() || recipients_seen_.contains(rcpt.normalized)) {
    return apply_rcpt(std::move(rcpt));
  }
  rate_return_ = state_;
  pending_rcpt_ = std::move(rcpt);
  state_ = State::waiting_rate;
  actions_.emplace_back(CheckRate{RateKind::recipients, user_});
}

void ServerSession::Impl::rate_result(const RateDecision& decision) {
  if (state_ != State::waiting_rate) return;
  state_ = rate_return_;
  const bool for_rcpt = pending_rcpt_.has_value();
  if (decision.allowed) {
    if (for_rcpt) {
      RcptCheck rcpt = std::move(*pending_rcpt_);
      pending_rcpt_.reset();
      apply_rcpt(std::move(rcpt));
    } else if (pending_mail_) {
      MailCheck mail = std::move(*pending_mail_);
      pending_mail_.reset();
      apply_mail(std::move(mail));
    }
  } else {
    pending_rcpt_.reset();
    pending_mail_.reset();
    const long wait = std::max<long>(1, static_cast<long>(decision.retry_after.count()));
    log("rate_limited",
        fmt::format("user={} cmd={} limit={}:{} retry_after={}s", quote_field(user_),
                    for_rcpt ? "RCPT" : "MAIL", for_rcpt ? "user_recipients" : "user_messages",
                    decision.limit, wait),
        true);
    reply(replies::user_rate_limited(for_rcpt, decision.limit, wait));
  }
  check_error_limit();
  process();
}

}  // namespace postern::smtp
