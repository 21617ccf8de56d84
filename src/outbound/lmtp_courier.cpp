#include "outbound/lmtp_courier.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <stdexcept>

#include "obs/log.hpp"

namespace postern::outbound {

using delivery::FailureKind;
using delivery::Outcome;
using delivery::RecipientResult;
using smtp::client::ClientSession;
using smtp::client::ClientSettings;
using smtp::client::Close;
using smtp::client::Failed;
using smtp::client::MessageDone;
using smtp::client::Ready;
using smtp::client::RecipientReply;
using smtp::client::SendBytes;
using smtp::client::StartTls;
using smtp::client::TlsPolicy;
using std::chrono::milliseconds;

namespace {

// The pool counts connections per destination; LMTP has one.
constexpr std::string_view kKey = "lmtp";

std::vector<RecipientResult> all_with(std::size_t n, Outcome o, const std::string& reply,
                                      const std::string& where,
                                      FailureKind kind = FailureKind::other) {
  return std::vector<RecipientResult>(n, RecipientResult{o, reply, where, kind});
}

}  // namespace

struct LmtpCourier::Event {
  enum class Kind { ready, done, failed } kind = Kind::failed;
  std::vector<RecipientReply> results;
  std::string reason;
};

LmtpCourier::LmtpCourier(LmtpOptions options)
    : options_(std::move(options)),
      where_(options_.target.text()),
      pool_(options_.max_connections, options_.max_connections, options_.idle_keep) {
  if (cancel_fd_.fd < 0) throw std::runtime_error("cannot create an eventfd for the LMTP courier");
}

LmtpCourier::~LmtpCourier() = default;

LmtpCourier::CancelFd::CancelFd() : fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

LmtpCourier::CancelFd::~CancelFd() {
  if (fd >= 0) ::close(fd);
}

void LmtpCourier::cancel() {
  cancelled_ = true;
  const std::uint64_t one = 1;
  // Never read back: every wait from now on ends at once too.
  [[maybe_unused]] const ssize_t n = ::write(cancel_fd_.fd, &one, sizeof one);
}

std::vector<RecipientResult> LmtpCourier::deliver(const spool::QueuedMessage& message,
                                                  std::string_view data,
                                                  const std::vector<std::size_t>& recipients) {
  if (recipients.empty()) return {};
  if (cancelled_) {
    return all_with(recipients.size(), Outcome::transient, "4.3.2 delivery stopped: shutting down",
                    where_);
  }
  pool_.expire();
  OutgoingMessage outgoing;
  outgoing.mail_from = message.envelope.mail_from;
  for (const std::size_t i : recipients)
    outgoing.recipients.push_back(message.recipients[i].recipient);
  outgoing.data = data;
  outgoing.eight_bit = message.envelope.eight_bit;
  outgoing.smtputf8 = message.envelope.smtputf8;
  std::vector<RecipientResult> out;
  // A pooled session first; one the server closed while idle shows itself
  // at RSET and is dropped without an answer, so the next is tried.
  while (std::unique_ptr<Link> link = pool_.take_idle(std::string(kKey))) {
    if (send_on(std::move(link), message, outgoing, out)) return out;
  }
  std::string error;
  bool busy = false;
  std::unique_ptr<Link> link = connect(message.id, error, busy);
  if (busy) {
    // Our own connection limit, not the server: RFC 3463 X.4.5 (mail
    // system congestion), which the queue runner does not count as the
    // destination being down.
    return all_with(recipients.size(), Outcome::transient, "4.4.5 " + error, where_);
  }
  if (!link) {
    // Dovecot down or not there yet (refused, timed out, no greeting):
    // X.4.1 "no answer from host", which makes the queue runner mark the
    // local destination dead and back off, like an MX that does not answer.
    // Everything stays queued and is retried.
    return all_with(recipients.size(), Outcome::transient,
                    "4.4.1 LMTP server unreachable: " + error, where_, FailureKind::unreachable);
  }
  if (send_on(std::move(link), message, outgoing, out)) return out;
  return all_with(recipients.size(), Outcome::transient,
                  "4.4.2 LMTP session failed: " + out.front().reply, where_,
                  FailureKind::unreachable);
}

std::unique_ptr<Link> LmtpCourier::connect(const std::string& queue_id, std::string& error,
                                           bool& busy) {
  const std::string key(kKey);
  // Every slot may be taken by links that go back to the pool idle (they
  // keep their slot): wait in short steps and take such a link when one
  // comes back, rather than waiting for a slot only a close would free.
  const auto deadline = std::chrono::steady_clock::now() + options_.connect_timeout;
  for (;;) {
    if (std::unique_ptr<Link> idle = pool_.take_idle(key)) return idle;
    if (pool_.acquire(key, milliseconds(100))) break;
    if (cancelled_ || std::chrono::steady_clock::now() >= deadline) {
      error = "too many LMTP connections";
      busy = true;
      return nullptr;
    }
  }
  ConnectError kind = ConnectError::none;
  std::unique_ptr<BlockingStream> stream;
  if (options_.target.kind == config::LocalTarget::Kind::lmtp_unix) {
    stream = BlockingStream::connect_unix(options_.target.socket.string(), options_.connect_timeout,
                                          kind, error, cancel_fd_.fd);
  } else {
    stream = BlockingStream::connect(options_.target.host, options_.target.port,
                                     options_.connect_timeout, kind, error, cancel_fd_.fd);
  }
  if (!stream) {
    pool_.release(key);
    obs::warning("connect", "id={} host={} error=\"{}\"", queue_id, where_, obs::sanitize(error));
    return nullptr;
  }
  auto link = std::make_unique<Link>();
  link->stream = std::move(stream);
  link->key = key;
  link->destination = key;
  link->where = where_;
  ClientSettings settings;
  settings.helo_name = options_.hostname;
  settings.tls = TlsPolicy::none;  // a local socket or a trusted neighbour
  settings.lmtp = true;
  link->session = std::make_unique<ClientSession>(settings);
  const Event e = drive(*link);
  if (e.kind != Event::Kind::ready) {
    link->stream->close();
    pool_.release(key);
    error = e.reason;
    obs::warning("connect", "id={} host={} error=\"{}\"", queue_id, where_, obs::sanitize(error));
    return nullptr;
  }
  return link;
}

bool LmtpCourier::send_on(std::unique_ptr<Link> link, const spool::QueuedMessage& message,
                          const OutgoingMessage& outgoing, std::vector<RecipientResult>& out) {
  link->session->send_message(outgoing);
  const Event e = drive(*link);
  const bool answered = e.kind == Event::Kind::done;
  out.clear();
  if (answered) {
    for (const auto& r : e.results) out.push_back(RecipientResult{r.outcome, r.reply, where_});
  } else {
    out.push_back(RecipientResult{Outcome::transient, e.reason, where_});
  }
  if (link->session->ready()) {
    pool_.put_idle(std::move(link));
  } else {
    link->stream->close();
    pool_.release(link->destination);
  }
  if (!answered) {
    obs::warning("lmtp", "id={} host={} error=\"{}\"", message.id, where_, obs::sanitize(e.reason));
  }
  return answered;
}

// Carries out the session's actions until it is ready, has answered a
// message, or failed. No TLS: the settings never ask for it.
LmtpCourier::Event LmtpCourier::drive(Link& link) {
  const milliseconds timeout = options_.command_timeout;
  std::optional<Event> event;
  for (;;) {
    bool any = false;
    for (auto& action : link.session->take_actions()) {
      any = true;
      if (auto* send = std::get_if<SendBytes>(&action)) {
        std::string error;
        const IoStatus st = link.stream->write_all(send->bytes, timeout, error);
        if (st == IoStatus::timeout) {
          link.session->timeout();
        } else if (st != IoStatus::ok) {
          link.session->peer_closed();
        }
      } else if (std::holds_alternative<StartTls>(action)) {
        link.session->tls_failed("TLS is not used for LMTP");
      } else if (std::holds_alternative<Ready>(action)) {
        event = Event{Event::Kind::ready, {}, {}};
      } else if (auto* done = std::get_if<MessageDone>(&action)) {
        event = Event{Event::Kind::done, std::move(done->results), {}};
      } else if (auto* failed = std::get_if<Failed>(&action)) {
        if (!event) event = Event{Event::Kind::failed, {}, failed->reason};
      } else if (std::holds_alternative<Close>(action)) {
        link.stream->close();
      }
    }
    if (any) continue;
    if (event) return *event;
    if (!link.session->wants_input()) return Event{Event::Kind::failed, {}, "connection closed"};
    std::string bytes;
    std::string error;
    const IoStatus st = link.stream->read_some(bytes, timeout, error);
    if (st == IoStatus::ok) {
      link.session->feed(bytes);
    } else if (st == IoStatus::timeout) {
      link.session->timeout();
    } else {
      link.session->peer_closed();
    }
  }
}

}  // namespace postern::outbound
