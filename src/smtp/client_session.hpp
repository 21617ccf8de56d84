// The client side of one SMTP connection, free of I/O (STYLE.md "The
// sans-I/O session"): the same shape as smtp::ServerSession. The driver
// (SmtpCourier, later `postern probe`) owns the socket, TLS and timers; it
// feeds reply bytes and events and carries out the actions this answers with.
//
// Driver contract:
//  1. Construct once the TCP connection is up (for implicit TLS: after the
//     handshake, with ClientSettings::tls_active set). The session waits for
//     the banner; nothing needs to be called to start it.
//  2. Feed every byte read with feed(); feed timeout() when a reply took
//     longer than the command timeout and peer_closed() on EOF or error.
//  3. After every call drain take_actions() and carry them out in order.
//  4. StartTls pauses the session until tls_established() or tls_failed().
//  5. Ready says the connection is greeted, (TLS-)upgraded and
//     authenticated: call send_message(). MessageDone gives one result per
//     recipient; the session is Ready again afterwards unless it also emitted
//     Close. Failed says the connection could not be set up (or, between
//     messages, was found dead); Close follows it.
//  6. quit() ends a Ready session politely.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/delivery_outcome.hpp"
#include "core/envelope.hpp"
#include "core/types.hpp"

namespace postern::smtp::client {

using postern::TlsPolicy;  // core/types.hpp: the config speaks it too

struct Credentials {
  std::string user;
  std::string password;
};

struct ClientSettings {
  std::string helo_name;  // our hostname, for EHLO/HELO
  TlsPolicy tls = TlsPolicy::opportunistic;
  bool tls_active = false;  // implicit TLS: the connection is encrypted already
  // When set, AUTH is mandatory and happens only over TLS.
  std::optional<Credentials> credentials;
  // LMTP (RFC 2033) instead of SMTP: LHLO instead of EHLO (no HELO
  // fallback), and after the final dot one reply per recipient that RCPT
  // accepted, in RCPT order (§4.2), each deciding its own recipient.
  bool lmtp = false;
};

// What the server said it supports in its EHLO reply (RFC 5321 §4.1.1.1).
struct Capabilities {
  bool esmtp = false;             // EHLO worked (false after a HELO fallback)
  bool pipelining = false;        // RFC 2920
  bool size = false;              // RFC 1870
  std::size_t size_limit = 0;     // 0 = none announced
  bool starttls = false;          // RFC 3207
  bool eightbitmime = false;      // RFC 6152
  bool smtputf8 = false;          // RFC 6531
  bool dsn = false;               // RFC 3461
  std::vector<std::string> auth;  // mechanisms, uppercased (RFC 4954)
};

// A reply as received: code and the text of every line, joined by spaces.
struct ServerReply {
  int code = 0;
  std::vector<std::string> lines;
  std::string summary() const;  // "550 5.1.1 no such user"
};

// One message to hand over on a Ready session.
struct OutgoingMessage {
  std::string mail_from;  // empty = null sender
  std::vector<Recipient> recipients;
  std::string_view data;  // the queued message; normalised and dot-stuffed here
  bool eight_bit = false;
  bool smtputf8 = false;
  std::string dsn_ret;
  std::string dsn_envid;
};

struct RecipientReply {
  delivery::Outcome outcome = delivery::Outcome::transient;
  std::string reply;  // "250 2.0.0 ok" or our own text for timeouts and refusals
};

// Where a connection-level failure happened; the courier uses it to decide
// between the next MX host, a plaintext retry and giving up.
// tls_unavailable: our policy requires TLS and the server does not offer
// STARTTLS (a verdict on the host, not a failed attempt at TLS, so it is
// never a reason to retry in plaintext).
enum class Stage { banner, ehlo, starttls, tls_unavailable, tls_handshake, auth, rset, protocol };

// ---- Actions ---------------------------------------------------------------

struct SendBytes {
  std::string bytes;
};
// Perform the TLS client handshake now; every byte received after the 220 to
// STARTTLS has already been discarded (RFC 3207 §4.2, response injection).
struct StartTls {};
struct Ready {};
struct MessageDone {
  std::vector<RecipientReply> results;  // one per OutgoingMessage::recipients
};
struct Failed {
  Stage stage = Stage::protocol;
  std::string reason;      // "421 4.3.2 busy" or "timeout waiting for the banner"
  bool permanent = false;  // a 5xx answer (the next host may still be tried)
};
struct Close {};

using ClientAction = std::variant<SendBytes, StartTls, Ready, MessageDone, Failed, Close>;

class ClientSession {
 public:
  explicit ClientSession(ClientSettings settings);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  void feed(std::string_view bytes);
  void tls_established();
  void tls_failed(std::string_view why);
  void timeout();
  void peer_closed();
  // Only while ready(). The data must stay valid until MessageDone.
  void send_message(const OutgoingMessage& message);
  // Sends QUIT and closes without waiting for 221 (as Postfix does by
  // default: the reply carries nothing the client could act on).
  void quit();

  std::vector<ClientAction> take_actions();

  bool ready() const;        // between messages, connection usable
  bool wants_input() const;  // waiting for a reply
  bool closed() const;
  bool tls_active() const;
  const Capabilities& capabilities() const;
  std::size_t messages_sent() const;  // transactions completed on this connection
  // How long the reply awaited now may take in all, however its bytes
  // arrive (RFC 5321 §4.5.3.2: 5 min for the banner and commands, 2 min
  // for DATA's 354, 10 min after the final dot). The driver starts the
  // clock when it begins to wait and again whenever replies_received()
  // grows, so a peer that trickles a byte at a time is still cut off.
  std::chrono::seconds reply_timeout() const;
  std::size_t replies_received() const;
  // §4.5.3.2.5: each block of message data may take this long to send.
  static constexpr std::chrono::minutes kDataBlockTimeout{3};

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The message as it goes on the wire after DATA: every line ending CRLF (a
// bare CR or LF becomes CRLF), lines starting with "." doubled (RFC 5321
// §4.5.2), then the terminating ".\r\n".
std::string encode_data(std::string_view data);

}  // namespace postern::smtp::client
