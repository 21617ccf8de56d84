// The server side of one SMTP session, free of I/O (STYLE.md "The sans-I/O
// session"). The network driver feeds it events and bytes and carries out the
// actions it answers with; every protocol rule lives here.
//
// Driver contract:
//  1. Construct, then call start() once the connection is usable (for an
//     implicit-TLS listener: after the handshake, with tls_established()
//     called first). start() queues the banner (or a 421 if the driver says
//     the connection is over a limit via `SessionSettings::refuse_with`).
//  2. Whenever bytes arrive, call feed(bytes). The session buffers what it
//     cannot use yet (pipelining) and processes as far as it can.
//  3. After every call, drain take_actions() and carry them out in order.
//     Consecutive SendReply actions may be coalesced into one write.
//  4. Asynchronous actions (StartTls, VerifyCredentials, LookupRecipient,
//     CheckRate, CommitMessage) pause the session: it processes no further
//     input until the matching result event is fed back (tls_established /
//     tls_failed, credentials_result, recipient_result, rate_result,
//     message_committed / message_failed).
//  5. When a Close action appears, flush preceding replies, then close.
//  6. Feed timeout() when no byte arrived for Limits::idle_timeout, and
//     peer_closed() on EOF or a read error.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/envelope.hpp"
#include "core/limits.hpp"
#include "core/reply.hpp"
#include "core/types.hpp"
#include "policy/directory.hpp"

namespace postern::smtp {

struct TlsInfo {
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_256_GCM_SHA384"
};

struct SessionSettings {
  std::string hostname;  // our name: banner, Received, Message-ID
  std::string listener;  // "127.0.0.1:2587", for Received and logs
  Role role = Role::relay;
  TlsMode tls = TlsMode::none;
  bool tls_available = true;   // false when no certificate could be loaded
  bool insecure_auth = false;  // listener has insecure = true: AUTH without TLS
  Limits limits;
  std::string session_id;  // random, unique; in logs and Message-ID
  std::string client_ip;   // "127.0.0.1" or "::1"
  std::uint16_t client_port = 0;
  bool client_in_relay_networks = false;  // relay_networks matched the client
  // Current time for Received and Date headers; the driver refreshes it.
  std::chrono::system_clock::time_point now{};
  // When non-empty the session answers start() with this 421 text and closes
  // (global or per-IP session limit, server shutting down).
  std::string refuse_with;
  // A fresh queue id for the message being committed, named in the
  // Received header (the spool's allocate_id()). Unset: the session id is
  // named instead and the spool picks the queue id.
  std::function<std::string()> allocate_queue_id;
  // Per-user limits are configured ([limits] user_messages,
  // user_recipients, SPEC §1.10): an authenticated user's MAIL and each new
  // recipient are first checked with a CheckRate action.
  bool user_rate_limits = false;
  // Set when the client is refused for who it is (a DNS blocklist lists it,
  // SPEC §1.8): every MAIL gets this reply, so nothing of it is accepted.
  std::optional<Reply> client_refusal;
};

// ---- Actions: what the driver must do ------------------------------------

struct SendReply {
  std::string bytes;  // rendered reply, CRLF-terminated
};

// Perform the TLS server handshake now. The session has already discarded
// every byte it had buffered (CVE-2011-0411 class); the driver must discard
// whatever else it read and did not feed yet, too.
struct StartTls {};

enum class AuthOutcome { ok, invalid, throttled, temporary_failure };

// Check these credentials (argon2id is slow: off the event loop), then call
// credentials_result(). The password must never be logged.
struct VerifyCredentials {
  std::string mechanism;  // "PLAIN" or "LOGIN"
  std::string user;       // authentication identity
  std::string password;
};

enum class RecipientLookup { exists, not_found, temporary_failure };

// Ask the user database (Dovecot's userdb) whether this local mailbox
// exists, then call recipient_result(). Only issued when the Directory says
// its mailboxes are remote; the RCPT reply waits for the answer.
struct LookupRecipient {
  std::string address;
};

enum class RateKind { messages, recipients };

// Count one more message (at MAIL) or recipient (at RCPT) against the
// authenticated user's limits, then call rate_result(). Only issued when
// SessionSettings::user_rate_limits is set.
struct CheckRate {
  RateKind kind = RateKind::messages;
  std::string user;  // the authenticated user, canonical
};

struct RateDecision {
  bool allowed = true;
  std::string limit;                    // the limit that refused: "5/1m"
  std::chrono::seconds retry_after{0};  // when the client may try again
};

// Make this message durable (spool), then call message_committed() or
// message_failed(). `data` is the complete message as it will be queued:
// trace header first, CRLF line endings only, dot-unstuffed. With `sign`
// the driver first DKIM-signs it (SPEC §1.7: mail from submission and
// relay_networks clients), or calls message_rejected() when the content
// cannot be signed.
//
// With `verify` (SPEC §1.8: a relay listener, a client neither
// authenticated nor in relay_networks) the driver first runs the inbound
// checks (SPF, DKIM, DMARC) on it, adds their Authentication-Results field
// on top, and may refuse it instead with message_refused(). The client's
// content starts at `content_offset` in `data`, after our trace header.
struct CommitMessage {
  Envelope envelope;
  std::string data;
  std::string queue_id;  // the id the Received header names; empty: the spool picks
  bool sign = false;
  bool verify = false;
  std::size_t content_offset = 0;
};

struct Close {
  std::string reason;  // for the log: "quit", "timeout", "too many errors"
};

// One log event, already in "event fields" form (see obs/log.hpp).
struct LogEvent {
  std::string event;   // "reject", "auth", "tls", "helo" ...
  std::string fields;  // "session=.. reply=\"550 5.1.1 ...\""
  bool warning = false;
  // For "reject": the refusal that was sent (code 0 when the session ended
  // without one), so that metrics can count refusals by kind.
  Reply reply;
};

using Action = std::variant<SendReply, StartTls, VerifyCredentials, LookupRecipient, CheckRate,
                            CommitMessage, Close, LogEvent>;

// ---- The session ----------------------------------------------------------

class ServerSession {
 public:
  ServerSession(SessionSettings settings, const policy::Directory& directory);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  void start();
  void feed(std::string_view bytes);
  void tls_established(const TlsInfo& info);
  void tls_failed();
  // `user`: the name the verifier knows the user by (Dovecot's user=), used
  // for sender ownership and logs; empty keeps the name the client gave.
  void credentials_result(AuthOutcome outcome, std::string_view user = {});
  void recipient_result(RecipientLookup result);
  void rate_result(const RateDecision& decision);
  void message_committed(std::string_view queue_id);
  void message_failed(std::string_view why);
  // The content is refused for good (550 5.6.0 `why`); the session goes on.
  void message_rejected(std::string_view why);
  // The message is refused with this reply (the inbound checks: 550 5.7.1
  // for a DMARC p=reject failure, 451 4.7.0 for a DNS failure while
  // enforcing); `reason` goes into the log line. The session goes on.
  void message_refused(const Reply& reply, std::string_view reason);
  void timeout();
  void peer_closed();
  void set_now(std::chrono::system_clock::time_point now);

  std::vector<Action> take_actions();

  // False while an asynchronous action is outstanding or after Close.
  bool wants_input() const;
  bool closed() const;
  // Bytes currently buffered and not yet processed (bounded by the session).
  std::size_t buffered() const;
  // True while message content (DATA or BDAT chunks) is being received.
  bool receiving_message() const;
  std::string_view authenticated_user() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace postern::smtp
