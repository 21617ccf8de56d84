// DATA (RFC 5321 §4.1.1.4), BDAT (RFC 3030) and handing the message to the
// spool. A 250 for a message is only ever sent from message_committed(),
// i.e. after the driver made it durable.
#include <fmt/format.h>

#include "message/header_section.hpp"
#include "message/message_text.hpp"
#include "message/received_header.hpp"
#include "message/submission_headers.hpp"
#include "obs/log.hpp"
#include "smtp/replies.hpp"
#include "smtp/session_impl.hpp"

namespace postern::smtp {

// ---- DATA ---------------------------------------------------------------------------

std::optional<Reply> ServerSession::Impl::check_data(std::string_view args) const {
  if (!trim(args).empty()) return replies::syntax("DATA");
  if (!in_transaction()) return replies::need_mail();
  if (bdat_used_) return replies::data_after_bdat();  // RFC 3030 §3
  if (envelope_.recipients.empty()) return replies::need_rcpt();
  return std::nullopt;
}

void ServerSession::Impl::apply_data() {
  decoder_.reset();
  body_.clear();
  state_ = State::data;
  reply(replies::start_data());
}

void ServerSession::Impl::cmd_data(std::string_view args) {
  if (auto refusal = check_data(args)) return reply(*refusal);
  apply_data();
}

void ServerSession::Impl::process_data() {
  const std::size_t used = decoder_.feed(in_.view(), body_, s_.limits.max_message_size);
  in_.consume(used);
  if (!decoder_.done()) return;
  end_message("DATA", decoder_.overflowed());
}

// The whole message was read, by DATA or by BDAT up to LAST (so nothing of
// it runs as commands): an oversized one is refused and nothing of it is
// kept (RFC 1870 §6.1); any other is committed.
void ServerSession::Impl::end_message(std::string_view verb, bool overflowed) {
  if (overflowed) {
    reject(verb, replies::message_too_big());
    reset_transaction();
    state_ = State::greeted;
    return;
  }
  std::string data = std::move(body_);
  body_.clear();
  commit(std::move(data));
}

// ---- BDAT ---------------------------------------------------------------------------

std::optional<Reply> ServerSession::Impl::check_bdat(const BdatArgs&) const {
  if (!in_transaction()) return replies::need_mail();
  if (envelope_.recipients.empty()) return replies::need_rcpt();
  return std::nullopt;
}

void ServerSession::Impl::apply_bdat(const BdatArgs& args) {
  bdat_used_ = true;
  bdat_.begin_chunk(args.size, args.last, false);
  state_ = State::bdat;
  if (args.size == 0) finish_chunk();
}

// The chunk announced by a refused BDAT still follows; it is read and
// dropped before the refusal is sent, or its bytes would run as commands.
void ServerSession::Impl::skip_chunk(std::size_t size, const Reply& r) {
  bdat_return_ = state_;
  bdat_deferred_ = r;
  bdat_.begin_chunk(size, false, true);
  state_ = State::bdat;
  if (size == 0) finish_chunk();
}

void ServerSession::Impl::refuse_bdat(std::string_view args, const Reply& r) {
  const auto parsed = parse_bdat_args(args);
  if (!parsed) return reply(replies::syntax("BDAT size [LAST]"));
  skip_chunk(parsed->size, r);
}

void ServerSession::Impl::cmd_bdat(std::string_view args) {
  const auto parsed = parse_bdat_args(args);
  // Without a size we cannot know where the chunk ends; the client's
  // following bytes will be read as commands and most likely fail.
  if (!parsed) return reply(replies::syntax("BDAT size [LAST]"));
  if (auto refusal = check_bdat(*parsed)) return skip_chunk(parsed->size, *refusal);
  apply_bdat(*parsed);
}

void ServerSession::Impl::process_bdat() {
  const std::size_t used = bdat_.feed(in_.view(), body_, s_.limits.max_message_size);
  in_.consume(used);
  if (bdat_.chunk_done()) finish_chunk();
}

void ServerSession::Impl::finish_chunk() {
  if (bdat_.discarding()) {
    state_ = bdat_return_;
    const Reply r = *bdat_deferred_;
    bdat_deferred_.reset();
    // The chunk's size applied to a refused command, not to the message.
    bdat_.begin_chunk(0, false, false);
    return reply(r);
  }
  state_ = State::rcpt;
  if (bdat_.last()) bdat_.finish(body_, s_.limits.max_message_size);
  if (!bdat_.last()) {
    // An oversized message is reported once, at LAST, so the client gets
    // one answer for the message (RFC 3030 §2 allows either).
    return reply(replies::chunk_received(bdat_.chunk_size()));
  }
  // The reader stored bare CR and LF as CRLF and applied the limit to the
  // stored form, as DATA does (SPEC §1.2).
  end_message("BDAT", bdat_.overflowed());
}

// ---- commit -------------------------------------------------------------------------

// SPEC §1.9: on submission every address in From: and Sender: must be the
// user's, as the envelope sender must be (RFC 6409 §6.1 lets the MSA
// insist). The header is what people see and what DMARC aligns on, so a
// stolen or shared account must not put another user's name there; this
// runs before anything (a DKIM signature) vouches for the message.
std::optional<Reply> ServerSession::Impl::check_header_senders(std::string_view data) const {
  if (s_.role != Role::submission || user_.empty()) return std::nullopt;
  for (const std::string_view field : {"From", "Sender"}) {
    for (const auto& value : message::header_values(data, field)) {
      for (const auto& address : message::parse_address_list(value)) {
        if (!directory_.user_owns_sender(user_, address)) {
          return replies::header_sender_not_owned(field, obs::sanitize(address));
        }
      }
    }
  }
  return std::nullopt;
}

void ServerSession::Impl::commit(std::string data) {
  if (auto refusal = check_header_senders(data)) {
    reject("DATA", *refusal);
    reset_transaction();
    state_ = State::greeted;
    return;
  }
  message::ReceivedInfo r;
  r.helo = helo_;
  r.client_ip = s_.client_ip;
  r.hostname = s_.hostname;
  r.protocol = message::protocol_name(esmtp_, tls_active_, !user_.empty());
  // The queue id is taken now, before the message is stored, so that the
  // header can name it (as Postfix's does) and a header leads to the log
  // lines; the 250 still waits for the commit (SPEC §1.4).
  std::string queue_id = s_.allocate_queue_id ? s_.allocate_queue_id() : std::string();
  r.id = queue_id.empty() ? s_.session_id : queue_id;
  r.session = s_.session_id;
  r.listener = s_.listener;
  r.role = std::string(to_string(s_.role));
  if (tls_active_) {
    r.tls_version = tls_.version;
    r.tls_cipher = tls_.cipher;
  }
  r.auth_user = user_;
  if (envelope_.recipients.size() == 1) r.for_recipient = envelope_.recipients[0].address;
  r.when = s_.now;
  std::string headers = message::received_header(r);
  // Date and Message-ID go right after our Received header rather than at
  // the end of the client's header section: that position exists in every
  // message, even one with no header section at all, and trace fields
  // followed by other fields is what RFC 5322 §3.6 expects at the top.
  if (s_.role == Role::submission) {
    headers += message::missing_submission_headers(data, s_.session_id, messages_ + 1, s_.now,
                                                   s_.hostname);
  }
  // Content that does not begin with a header field has no header section;
  // an empty line keeps it body instead of letting it continue our headers.
  if (!data.empty() && !message::starts_with_header_field(data) && !data.starts_with("\r\n")) {
    headers += "\r\n";
  }
  if (!data.empty() && !data.ends_with("\r\n")) data += "\r\n";
  const std::size_t content_offset = headers.size();
  data.insert(0, headers);  // one buffer, not a second copy of the message
  state_ = State::waiting_commit;
  // Mail that leaves on behalf of our users or trusted networks is signed
  // (SPEC §1.7); mail arriving from the world for our users is not.
  const bool sign = s_.role == Role::submission || !user_.empty() || s_.client_in_relay_networks;
  // The complement on relay listeners is checked (SPEC §1.8): SPF, DKIM and
  // DMARC for mail from the world; never for submission.
  const bool verify = s_.role == Role::relay && user_.empty() && !s_.client_in_relay_networks;
  actions_.emplace_back(
      CommitMessage{envelope_, std::move(data), std::move(queue_id), sign, verify, content_offset});
}

void ServerSession::Impl::message_committed(std::string_view id) {
  if (state_ != State::waiting_commit) return;
  ++messages_;
  reset_transaction();
  state_ = State::greeted;
  counting_errors_ = true;
  reply(replies::queued(id));
  process();
}

void ServerSession::Impl::message_rejected(std::string_view why) {
  if (state_ != State::waiting_commit) return;
  const Reply r = replies::content_refused(why);
  log("reject",
      fmt::format("cmd=DATA from={} reason=content reply=\"{}\"",
                  quote_field("<" + envelope_.mail_from + ">"), r.summary()),
      true);
  reset_transaction();
  state_ = State::greeted;
  counting_errors_ = true;
  reply(r);
  process();
}

void ServerSession::Impl::message_refused(const Reply& r, std::string_view reason) {
  if (state_ != State::waiting_commit) return;
  log("reject",
      fmt::format("cmd=DATA from={} reason={} reply={}",
                  quote_field("<" + envelope_.mail_from + ">"), quote_field(reason),
                  quote_field(r.summary())),
      true);
  if (!actions_.empty()) {
    if (auto* logged = std::get_if<LogEvent>(&actions_.back())) logged->reply = r;
  }
  reset_transaction();
  state_ = State::greeted;
  counting_errors_ = true;
  reply(r);
  process();
}

void ServerSession::Impl::message_failed(std::string_view why) {
  if (state_ != State::waiting_commit) return;
  log("reject",
      fmt::format("cmd=DATA from={} reason={} reply=\"452 4.3.1 Insufficient system storage\"",
                  quote_field("<" + envelope_.mail_from + ">"), quote_field(why)),
      true);
  if (!actions_.empty()) {
    if (auto* logged = std::get_if<LogEvent>(&actions_.back())) {
      logged->reply = replies::storage_failure();
    }
  }
  reset_transaction();
  state_ = State::greeted;
  counting_errors_ = true;
  reply(replies::storage_failure());
  process();
}

}  // namespace postern::smtp
