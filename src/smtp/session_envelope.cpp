// MAIL and RCPT (RFC 5321 §4.1.1.2, §4.1.1.3) and the policy behind them:
// submission needs an authenticated user who owns the sender; relay takes
// mail for our mailboxes, and for anywhere only from relay_networks.
#include <fmt/format.h>

#include <algorithm>

#include "obs/log.hpp"
#include "policy/address.hpp"
#include "policy/relay.hpp"
#include "smtp/replies.hpp"
#include "smtp/session_impl.hpp"

namespace postern::smtp {

namespace {

// RFC 3461 §4 xtext: what ORCPT carries. "+" and "=" and anything outside
// "!".."~" are written as "+HH".
std::string xtext(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= '!' && c <= '~' && c != '+' && c != '=') {
      out += ch;
    } else {
      out += fmt::format("+{:02X}", c);
    }
  }
  return out;
}

Reply param_refusal(const ParamError& e) {
  const std::string name = obs::sanitize(e.name, 60);
  if (e.kind == ParamError::Kind::unknown) return replies::unsupported_option(name);
  return make_reply(501, Status::invalid_arguments, fmt::format("Bad value for {}", name));
}

}  // namespace

// ---- MAIL -------------------------------------------------------------------------

std::optional<Reply> ServerSession::Impl::check_mail(std::string_view args, MailCheck& out) const {
  if (state_ == State::fresh) return replies::send_helo_first();
  if (in_transaction()) return replies::nested_mail();
  if (s_.role == Role::submission && user_.empty()) return replies::auth_required();
  if (s_.client_refusal) return *s_.client_refusal;
  const auto parts = split_path_argument(args, "FROM:");
  if (!parts) {
    return starts_with_keyword(args, "FROM:") ? replies::bad_sender_syntax()
                                              : replies::syntax("MAIL FROM:<address>");
  }
  ParamError error;
  auto params = parse_mail_params(parts->params, error);
  if (!params) return param_refusal(error);
  // RFC 6531 §3.4: non-ASCII addresses only with the SMTPUTF8 parameter.
  const auto path = policy::parse_path(parts->path, params->smtputf8);
  if (!path || path->source_route) return replies::bad_sender_syntax();
  // RFC 1870 §6: refuse at once what is announced too large.
  if (params->size && *params->size > s_.limits.max_message_size) {
    return replies::message_too_big();
  }
  out.sender = path->null ? "" : path->mailbox.text();
  // RFC 6409 §6.1: a submission server may insist that the sender is the
  // user's own address. The null sender carries no identity to forge.
  if (s_.role == Role::submission && !path->null &&
      !directory_.user_owns_sender(user_, out.sender)) {
    return replies::sender_not_owned();
  }
  out.params = std::move(*params);
  return std::nullopt;
}

void ServerSession::Impl::apply_mail(MailCheck mail) {
  reset_transaction();
  if (mail.sender.empty() && !user_.empty()) {
    log("null_sender", "user=" + quote_field(user_));
  }
  envelope_.mail_from = std::move(mail.sender);
  envelope_.smtputf8 = mail.params.smtputf8;
  envelope_.eight_bit = mail.params.eight_bit;
  envelope_.dsn_ret = std::move(mail.params.ret);
  envelope_.dsn_envid = std::move(mail.params.envid);
  envelope_.auth_user = user_;
  envelope_.client_ip = s_.client_ip;
  envelope_.helo = helo_;
  state_ = State::mail;
  reply(replies::mail_ok());
}

void ServerSession::Impl::cmd_mail(std::string_view args) {
  MailCheck mail;
  if (auto refusal = check_mail(args, mail)) {
    // Refusals that are policy (not syntax or sequence) go to the log.
    if (refusal->code == 530 || refusal->code == 552 || refusal->code == 553) {
      const std::string from =
          mail.sender.empty() ? "" : " from=" + quote_field("<" + mail.sender + ">");
      const std::string user = user_.empty() ? "" : " user=" + quote_field(user_);
      log("reject",
          fmt::format("cmd=MAIL{}{} reply={}", from, user, quote_field(refusal->summary())));
    }
    return reply(*refusal);
  }
  admit_mail(std::move(mail));
}

// ---- RCPT -------------------------------------------------------------------------

std::optional<Reply> ServerSession::Impl::check_rcpt(std::string_view args, RcptCheck& out,
                                                     std::string& shown) const {
  if (!in_transaction()) return replies::need_mail();
  const auto parts = split_path_argument(args, "TO:");
  if (!parts) {
    return starts_with_keyword(args, "TO:") ? replies::bad_recipient_syntax()
                                            : replies::syntax("RCPT TO:<address>");
  }
  ParamError error;
  auto params = parse_rcpt_params(parts->params, error);
  if (!params) return param_refusal(error);
  // RFC 5321 §4.1.1.3: "<Postmaster>" without a domain (any case) must be
  // accepted; it means the postmaster of this server.
  const std::string postmaster = directory_.postmaster();
  const auto path = policy::ascii_lower(parts->path) == "<postmaster>" && !postmaster.empty()
                        ? policy::parse_path("<" + postmaster + ">", true)
                        : policy::parse_path(parts->path, envelope_.smtputf8);
  if (!path || path->null) return replies::bad_recipient_syntax();
  shown = obs::sanitize(path->mailbox.text());
  out.normalized = policy::normalized_address(path->mailbox);
  // RFC 5321 §4.5.3.1.10: 452 tells the client to send the rest later. A
  // repeat of a recipient we have does not add one.
  if (envelope_.recipients.size() >= s_.limits.max_recipients &&
      !recipients_seen_.contains(out.normalized)) {
    return replies::too_many_recipients();
  }
  // Submission clients are authenticated (MAIL required it) and may send
  // anywhere; relay clients only when relay_networks trusts them.
  const bool may_relay = !user_.empty() || s_.client_in_relay_networks;
  switch (policy::check_recipient(*path, directory_, may_relay)) {
    case policy::RcptVerdict::accept:
      break;
    case policy::RcptVerdict::unknown_user:
      return replies::user_unknown(shown);
    case policy::RcptVerdict::relay_denied:
      return replies::relay_denied(shown);
    case policy::RcptVerdict::lookup:
      out.needs_lookup = true;
      break;
  }
  out.recipient.address = path->mailbox.text();
  out.recipient.notify = std::move(params->notify);
  out.recipient.orcpt = std::move(params->orcpt);
  return std::nullopt;
}

void ServerSession::Impl::apply_rcpt(RcptCheck rcpt) {
  // A repeated recipient is accepted (the client did nothing wrong) but not
  // added: the first RCPT's DSN parameters stay.
  if (!recipients_seen_.insert(std::move(rcpt.normalized)).second) {
    state_ = State::rcpt;
    return reply(replies::rcpt_ok());
  }
  // Aliases, subaddresses and SRS addresses are resolved here, at the
  // envelope (as Postfix's cleanup does with virtual aliases): the spool
  // holds the mailboxes and remote addresses the message goes to, a later
  // change of the aliases file does not touch mail already accepted, and a
  // mailbox that two aliases reach gets the message once.
  const std::string& original = rcpt.recipient.address;
  const std::vector<std::string> targets = directory_.expand(original);
  if (targets.size() != 1 || targets.front() != original) {
    std::string to;
    for (const auto& t : targets) to += (to.empty() ? "<" : ",<") + obs::sanitize(t) + ">";
    log("expand", fmt::format("rcpt={} to={}", quote_field("<" + original + ">"), quote_field(to)));
  }
  for (const std::string& target : targets) {
    const bool seen = std::any_of(
        envelope_.recipients.begin(), envelope_.recipients.end(), [&](const Recipient& r) {
          return policy::ascii_lower(r.address) == policy::ascii_lower(target);
        });
    if (seen) continue;
    Recipient r = rcpt.recipient;
    r.address = target;
    // A DSN should name the address the sender used (RFC 3461 §4.2).
    if (r.orcpt.empty() && target != original) r.orcpt = "rfc822;" + xtext(original);
    envelope_.recipients.push_back(std::move(r));
  }
  state_ = State::rcpt;
  reply(replies::rcpt_ok());
}

void ServerSession::Impl::cmd_rcpt(std::string_view args) {
  RcptCheck rcpt;
  std::string shown;
  if (auto refusal = check_rcpt(args, rcpt, shown)) {
    if (refusal->code == 550 || refusal->code == 554 || refusal->code == 452) {
      return reject("RCPT", *refusal, shown);
    }
    return reply(*refusal);
  }
  if (rcpt.needs_lookup) {
    // Check done except the mailbox: the user database answers, then the
    // recipient is applied or refused (recipient_result).
    state_ = State::waiting_rcpt;
    actions_.emplace_back(LookupRecipient{rcpt.recipient.address});
    pending_shown_ = std::move(shown);
    pending_rcpt_ = std::move(rcpt);
    return;
  }
  admit_rcpt(std::move(rcpt));
}

void ServerSession::Impl::recipient_result(RecipientLookup result) {
  if (state_ != State::waiting_rcpt || !pending_rcpt_) return;
  RcptCheck rcpt = std::move(*pending_rcpt_);
  pending_rcpt_.reset();
  // Back to where RCPT found the transaction.
  state_ = envelope_.recipients.empty() ? State::mail : State::rcpt;
  switch (result) {
    case RecipientLookup::exists:
      admit_rcpt(std::move(rcpt));
      if (waiting()) return;  // the user's limits answer first
      break;
    case RecipientLookup::not_found:
      reject("RCPT", replies::user_unknown(pending_shown_), pending_shown_);
      break;
    case RecipientLookup::temporary_failure:
      // Never a 550 for a mailbox we could not look up: the client retries.
      log("reject",
          fmt::format("cmd=RCPT to={} reply={} reason=\"user database unavailable\"",
                      quote_field("<" + pending_shown_ + ">"),
                      quote_field(replies::recipient_lookup_failed(pending_shown_).summary())),
          true);
      reply(replies::recipient_lookup_failed(pending_shown_));
      break;
  }
  check_error_limit();
  process();
}

}  // namespace postern::smtp
