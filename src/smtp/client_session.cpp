#include "smtp/client_session.hpp"

#include <algorithm>
#include <charconv>
#include <deque>

#include "sasl/sasl.hpp"
#include "smtp/client_commands.hpp"
#include "smtp/reply_reader.hpp"

namespace postern::smtp::client {
namespace {

using delivery::Outcome;

enum class State {
  banner,
  ehlo,
  helo,
  starttls,
  tls_handshake,
  auth_plain,
  auth_login_user,
  auth_login_password,
  ready,
  rset,
  transaction,
  closed,
};

// What the next reply in a (possibly pipelined) transaction answers.
enum class Expect { rset, mail, rcpt, data, body_end };

Outcome outcome_of(int code) {
  if (code >= 200 && code < 300) return Outcome::delivered;
  if (code >= 500 && code < 600) return Outcome::permanent;
  return Outcome::transient;
}

}  // namespace

std::string ServerReply::summary() const {
  std::string out = std::to_string(code);
  for (const std::string& line : lines) {
    if (line.empty()) continue;
    out += ' ';
    out += line;
  }
  return out;
}

std::string encode_data(std::string_view data) {
  std::string out;
  out.reserve(data.size() + data.size() / 50 + 8);
  bool line_start = true;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    if (c == '\r' || c == '\n') {
      // CRLF, a bare CR and a bare LF all end one line: no bare CR or LF
      // ever leaves (RFC 5321 §2.3.8), which also keeps an
      // "<LF>.<LF>"-style smuggled end of data from reaching the receiver.
      if (c == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
      out += "\r\n";
      line_start = true;
      continue;
    }
    if (line_start && c == '.') out += '.';  // transparency, RFC 5321 §4.5.2
    out += c;
    line_start = false;
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

struct ClientSession::Impl {
  explicit Impl(ClientSettings s) : settings(std::move(s)), tls(settings.tls_active) {}

  ClientSettings settings;
  bool tls = false;
  Capabilities caps;
  ReplyReader reader;
  State state = State::banner;
  std::vector<ClientAction> actions;
  std::size_t sent_messages = 0;
  std::size_t replies = 0;  // complete replies read so far

  // The transaction in progress.
  OutgoingMessage message;
  std::vector<RecipientReply> results;
  std::vector<bool> accepted;  // RCPT got 2xx
  std::vector<bool> decided;   // results[i] is final (RCPT refused)
  std::deque<std::pair<Expect, std::size_t>> expected;
  std::optional<ServerReply> mail_refusal;
  bool pipelined = false;
  bool discard_body_reply = false;

  void send(std::string bytes) { actions.emplace_back(SendBytes{std::move(bytes)}); }

  void close() {
    state = State::closed;
    expected.clear();
    actions.emplace_back(Close{});
  }

  // A connection-level failure; QUIT is polite when the peer still talks.
  void fail(Stage stage, std::string reason, bool permanent, bool peer_alive) {
    actions.emplace_back(Failed{stage, std::move(reason), permanent});
    if (peer_alive) send("QUIT\r\n");
    close();
  }

  void fail_reply(Stage stage, std::string_view what, const ServerReply& reply) {
    fail(stage, std::string(what) + reply.summary(), reply.code >= 500, true);
  }

  void send_ehlo() {
    send((settings.lmtp ? "LHLO " : "EHLO ") + settings.helo_name + "\r\n");
    state = State::ehlo;
  }

  void become_ready() {
    state = State::ready;
    actions.emplace_back(Ready{});
  }

  // After EHLO/HELO: STARTTLS, then AUTH, then ready.
  void after_greeting() {
    if (!tls) {
      if (settings.tls != TlsPolicy::none && caps.starttls) {
        send("STARTTLS\r\n");
        state = State::starttls;
        return;
      }
      if (settings.tls == TlsPolicy::required) {
        fail(Stage::tls_unavailable, "TLS required but the server does not offer STARTTLS", false,
             true);
        return;
      }
      if (settings.credentials) {
        // RFC 4954 §4 leaves it to policy; ours is never to send a password
        // in plaintext.
        fail(Stage::auth, "credentials configured but the connection is not encrypted", false,
             true);
        return;
      }
    }
    if (settings.credentials) {
      start_auth();
      return;
    }
    become_ready();
  }

  void start_auth() {
    const Credentials& c = *settings.credentials;
    if (offers(caps, "PLAIN")) {
      // The initial response saves a round trip (RFC 4954 §4).
      send(auth_plain_command(c.user, c.password) + "\r\n");
      state = State::auth_plain;
    } else if (offers(caps, "LOGIN")) {
      send("AUTH LOGIN\r\n");
      state = State::auth_login_user;
    } else {
      fail(Stage::auth,
           caps.auth.empty() ? "credentials configured but the server offers no AUTH"
                             : "the server offers neither AUTH PLAIN nor AUTH LOGIN",
           false, true);
    }
  }

  void on_reply(const ServerReply& r) {
    switch (state) {
      case State::banner:
        if (r.code == 220) {
          send_ehlo();
        } else {
          fail_reply(Stage::banner, "banner: ", r);
        }
        return;
      case State::ehlo:
        if (r.code == 250) {
          caps = parse_capabilities(r);
          after_greeting();
        } else if (r.code >= 500 && r.code < 600 && !settings.lmtp) {
          // RFC 5321 §3.2: a server that does not know EHLO still knows HELO.
          send("HELO " + settings.helo_name + "\r\n");
          state = State::helo;
        } else {
          fail_reply(Stage::ehlo, "EHLO: ", r);
        }
        return;
      case State::helo:
        if (r.code == 250) {
          caps = Capabilities{};
          after_greeting();
        } else {
          fail_reply(Stage::ehlo, "HELO: ", r);
        }
        return;
      case State::starttls:
        if (r.code == 220) {
          // RFC 3207 §4.2: nothing received before the handshake may be
          // used afterwards (CVE-2011-0411 class of response injection).
          reader.clear();
          state = State::tls_handshake;
          actions.emplace_back(StartTls{});
        } else {
          fail_reply(Stage::starttls, "STARTTLS refused: ", r);
        }
        return;
      case State::auth_plain:
        if (r.code == 235) {
          become_ready();
        } else {
          fail_reply(Stage::auth, "authentication failed: ", r);
        }
        return;
      case State::auth_login_user:
        if (r.code == 334) {
          send(sasl::base64_encode(settings.credentials->user) + "\r\n");
          state = State::auth_login_password;
        } else {
          fail_reply(Stage::auth, "authentication failed: ", r);
        }
        return;
      case State::auth_login_password:
        if (r.code == 334) {
          send(sasl::base64_encode(settings.credentials->password) + "\r\n");
          state = State::auth_plain;  // the next reply is the verdict
        } else {
          fail_reply(Stage::auth, "authentication failed: ", r);
        }
        return;
      case State::rset:
        if (r.code == 250) {
          begin_transaction();
        } else {
          fail_reply(Stage::rset, "RSET: ", r);
        }
        return;
      case State::transaction:
        on_transaction_reply(r);
        return;
      case State::tls_handshake:
      case State::ready:
      case State::closed:
        return;  // not reached: input is not read in these states
    }
  }

  // ---- transaction ----------------------------------------------------

  void start_message(const OutgoingMessage& m) {
    message = m;
    const std::size_t n = m.recipients.size();
    results.assign(n, RecipientReply{});
    accepted.assign(n, false);
    decided.assign(n, false);
    expected.clear();
    mail_refusal.reset();
    discard_body_reply = false;
    pipelined = caps.pipelining;
    if (sent_messages > 0 && pipelined) {
      // A reused connection to a server that pipelines: RSET goes in the
      // same write as MAIL, RCPT and DATA (RFC 2920 §3.1 allows RSET in a
      // group), which saves a round trip per message. Its reply comes
      // first; if it is not 250 (or nothing comes) the session fails at
      // RSET as below and no data is sent.
      begin_transaction(true);
      return;
    }
    if (sent_messages > 0) {
      // A reused connection: RSET clears any state and shows that the peer
      // is still there before a new transaction starts.
      send("RSET\r\n");
      state = State::rset;
      return;
    }
    begin_transaction();
  }

  void refuse_all(const std::string& reply) {
    for (auto& r : results) r = RecipientReply{Outcome::permanent, reply};
    finish();
  }

  std::string mail_command() const {
    MailParameters params;
    params.size = message.data.size();
    params.eight_bit = message.eight_bit;
    params.smtputf8 = message.smtputf8;
    params.dsn_ret = message.dsn_ret;
    params.dsn_envid = message.dsn_envid;
    return mail_from_command(message.mail_from, params, caps) + "\r\n";
  }

  std::string rcpt_command(std::size_t i) const {
    return rcpt_to_command(message.recipients[i], caps) + "\r\n";
  }

  void begin_transaction(bool rset_first = false) {
    state = State::transaction;
    if (message.recipients.empty()) {
      finish();
      return;
    }
    // RFC 6531 §3.4: a message that needs SMTPUTF8 must not be sent to a
    // server without it; it bounces.
    if (message.smtputf8 && !caps.smtputf8) {
      refuse_all("550 5.6.7 the receiving server does not support SMTPUTF8 (RFC 6531)");
      return;
    }
    // RFC 1870 §6: no point sending what the server announced it refuses.
    if (caps.size_limit > 0 && message.data.size() > caps.size_limit) {
      refuse_all("552 5.3.4 message size " + std::to_string(message.data.size()) +
                 " exceeds the receiving server's limit of " + std::to_string(caps.size_limit));
      return;
    }
    if (pipelined) {
      // RFC 2920 §3.1: MAIL, every RCPT and DATA go in one write; the
      // replies come back in order.
      std::string batch;
      if (rset_first) {
        batch = "RSET\r\n";
        expected.emplace_back(Expect::rset, 0);
      }
      batch += mail_command();
      expected.emplace_back(Expect::mail, 0);
      for (std::size_t i = 0; i < message.recipients.size(); ++i) {
        batch += rcpt_command(i);
        expected.emplace_back(Expect::rcpt, i);
      }
      batch += "DATA\r\n";
      expected.emplace_back(Expect::data, 0);
      send(std::move(batch));
    } else {
      send(mail_command());
      expected.emplace_back(Expect::mail, 0);
    }
  }

  std::size_t accepted_count() const {
    return static_cast<std::size_t>(std::count(accepted.begin(), accepted.end(), true));
  }

  void on_transaction_reply(const ServerReply& r) {
    if (expected.empty()) return;
    const auto [what, index] = expected.front();
    expected.pop_front();
    switch (what) {
      case Expect::rset:
        if (r.code != 250) fail_reply(Stage::rset, "RSET: ", r);
        return;
      case Expect::mail:
        if (r.code / 100 != 2) {
          mail_refusal = r;
          // Pipelined: the RCPT and DATA replies still come and are read.
          if (!pipelined) finish();
        } else if (!pipelined) {
          send(rcpt_command(0));
          expected.emplace_back(Expect::rcpt, 0);
        }
        return;
      case Expect::rcpt:
        if (!mail_refusal) {
          if (r.code / 100 == 2) {
            accepted[index] = true;
          } else {
            results[index] = RecipientReply{outcome_of(r.code), r.summary()};
            if (results[index].outcome == Outcome::delivered)
              results[index].outcome = Outcome::transient;
            decided[index] = true;
          }
        }
        if (!pipelined) {
          if (index + 1 < message.recipients.size()) {
            send(rcpt_command(index + 1));
            expected.emplace_back(Expect::rcpt, index + 1);
          } else if (accepted_count() > 0) {
            send("DATA\r\n");
            expected.emplace_back(Expect::data, 0);
          } else {
            finish();
          }
        }
        return;
      case Expect::data:
        if (r.code == 354) {
          if (mail_refusal || accepted_count() == 0) {
            // RFC 2920 §3.1: a server that accepted DATA although nothing
            // can be delivered gets an empty message, whose reply is moot.
            send(".\r\n");
            discard_body_reply = true;
          } else {
            send(encode_data(message.data));
            if (settings.lmtp) {
              // RFC 2033 §4.2: one reply for each recipient RCPT accepted.
              for (std::size_t i = 0; i < accepted.size(); ++i) {
                if (accepted[i]) expected.emplace_back(Expect::body_end, i);
              }
              return;
            }
          }
          expected.emplace_back(Expect::body_end, 0);
          return;
        }
        if (!mail_refusal && accepted_count() > 0) settle_accepted(r);
        finish();
        return;
      case Expect::body_end:
        if (settings.lmtp && !discard_body_reply) {
          // This reply is for one recipient: 2xx delivered, 4xx retried,
          // 5xx bounced, whatever the others get.
          Outcome o = outcome_of(r.code);
          if (o == Outcome::delivered && r.code / 100 != 2) o = Outcome::transient;
          results[index] = RecipientReply{o, r.summary()};
          decided[index] = true;
          if (expected.empty()) finish();
          return;
        }
        if (!discard_body_reply) settle_accepted(r);
        finish();
        return;
    }
  }

  // The reply to DATA or to the end of data applies to every recipient
  // that RCPT accepted.
  void settle_accepted(const ServerReply& r) {
    Outcome o = outcome_of(r.code);
    // Only a 2xx after the data means delivered; 354 to "." or anything
    // odd is not a success.
    if (o == Outcome::delivered && r.code / 100 != 2) o = Outcome::transient;
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (accepted[i]) {
        results[i] = RecipientReply{o, r.summary()};
        decided[i] = true;
      }
    }
  }

  void finish() {
    if (mail_refusal) {
      Outcome o = outcome_of(mail_refusal->code);
      if (o == Outcome::delivered) o = Outcome::transient;
      for (auto& r : results) r = RecipientReply{o, mail_refusal->summary()};
    }
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (!decided[i] && !mail_refusal && results[i].reply.empty()) {
        // A recipient accepted at RCPT whose data was never sent (no DATA).
        results[i] = RecipientReply{Outcome::transient, "message not sent"};
      }
    }
    expected.clear();
    ++sent_messages;
    actions.emplace_back(MessageDone{std::move(results)});
    results.clear();
    state = State::ready;
  }

  // Timeout or lost connection: every recipient not refused already stays
  // queued. After the final dot this may deliver twice on retry, which is
  // the lesser evil (RFC 1047).
  void abort(const std::string& why) {
    switch (state) {
      case State::banner:
        fail(Stage::banner, why + " waiting for the banner", false, false);
        return;
      case State::ehlo:
      case State::helo:
        fail(Stage::ehlo, why + " after EHLO", false, false);
        return;
      case State::starttls:
        fail(Stage::starttls, why + " after STARTTLS", false, false);
        return;
      case State::tls_handshake:
        fail(Stage::tls_handshake, why + " during the TLS handshake", false, false);
        return;
      case State::auth_plain:
      case State::auth_login_user:
      case State::auth_login_password:
        fail(Stage::auth, why + " during AUTH", false, false);
        return;
      case State::rset:
        fail(Stage::rset, why + " after RSET", false, false);
        return;
      case State::transaction: {
        if (!expected.empty() && expected.front().first == Expect::rset) {
          // A reused connection that died while idle: nothing of this
          // message was taken, and the caller tries a fresh connection.
          fail(Stage::rset, why + " after RSET", false, false);
          return;
        }
        std::string phase = "MAIL FROM";
        if (!expected.empty()) {
          switch (expected.front().first) {
            case Expect::rset:  // handled above
            case Expect::mail:
              phase = "MAIL FROM";
              break;
            case Expect::rcpt:
              phase = "RCPT TO";
              break;
            case Expect::data:
              phase = "DATA";
              break;
            case Expect::body_end:
              phase = "end of data";
              break;
          }
        }
        // A refused MAIL already decided every recipient (finish() applies it).
        if (!mail_refusal) {
          for (std::size_t i = 0; i < results.size(); ++i) {
            if (!decided[i])
              results[i] = RecipientReply{Outcome::transient, why + " after " + phase};
          }
          std::fill(decided.begin(), decided.end(), true);
        }
        finish();
        close();
        return;
      }
      case State::ready:
        close();
        return;
      case State::closed:
        return;
    }
  }

  void feed(std::string_view bytes) {
    if (state == State::closed || state == State::tls_handshake) return;
    reader.append(bytes);
    while (state != State::closed && state != State::ready && state != State::tls_handshake) {
      ServerReply r;
      const ReplyReader::Result got = reader.next(r);
      if (got == ReplyReader::Result::incomplete) return;
      if (got == ReplyReader::Result::malformed) {
        abort_protocol("malformed reply from the server");
        return;
      }
      ++replies;
      on_reply(r);
    }
  }

  // RFC 5321 §4.5.3.2: how long to wait for the reply awaited now.
  std::chrono::seconds reply_timeout() const {
    using std::chrono::minutes;
    if (state == State::transaction && !expected.empty()) {
      switch (expected.front().first) {
        case Expect::rset:
        case Expect::mail:
        case Expect::rcpt:
          return minutes(5);  // RSET as below; §4.5.3.2.2 MAIL, §4.5.3.2.3 RCPT
        case Expect::data:
          return minutes(2);  // §4.5.3.2.4 DATA initiation
        case Expect::body_end:
          return minutes(10);  // §4.5.3.2.6 DATA termination
      }
    }
    // §4.5.3.2.1 initial 220; EHLO, STARTTLS, AUTH and RSET get the
    // command timeout of MAIL and RCPT.
    return minutes(5);
  }

  void abort_protocol(const std::string& why) {
    if (state == State::transaction) {
      abort(why + ";");
      return;
    }
    const Stage stage = state == State::banner ? Stage::banner : Stage::protocol;
    fail(stage, why, false, false);
  }
};

ClientSession::ClientSession(ClientSettings settings)
    : impl_(std::make_unique<Impl>(std::move(settings))) {}
ClientSession::~ClientSession() = default;

void ClientSession::feed(std::string_view bytes) {
  impl_->feed(bytes);
}

void ClientSession::tls_established() {
  if (impl_->state != State::tls_handshake) return;
  impl_->tls = true;
  // RFC 3207 §4.2: forget everything learned before TLS and ask again.
  impl_->caps = Capabilities{};
  impl_->send_ehlo();
}

void ClientSession::tls_failed(std::string_view why) {
  if (impl_->state != State::tls_handshake) return;
  impl_->fail(Stage::tls_handshake, "TLS handshake failed: " + std::string(why), false, false);
}

void ClientSession::timeout() {
  impl_->abort("timeout");
}

void ClientSession::peer_closed() {
  impl_->abort("connection lost");
}

void ClientSession::send_message(const OutgoingMessage& message) {
  if (impl_->state != State::ready) {
    // A programmer error in the driver: answer with a transient result
    // rather than corrupt the dialogue.
    MessageDone done;
    done.results.assign(message.recipients.size(),
                        RecipientReply{Outcome::transient, "connection not ready"});
    impl_->actions.emplace_back(std::move(done));
    return;
  }
  impl_->start_message(message);
}

void ClientSession::quit() {
  if (impl_->state == State::closed) return;
  impl_->send("QUIT\r\n");
  impl_->close();
}

std::vector<ClientAction> ClientSession::take_actions() {
  std::vector<ClientAction> out;
  out.swap(impl_->actions);
  return out;
}

bool ClientSession::ready() const {
  return impl_->state == State::ready;
}

bool ClientSession::wants_input() const {
  const State s = impl_->state;
  return s != State::ready && s != State::closed && s != State::tls_handshake;
}

bool ClientSession::closed() const {
  return impl_->state == State::closed;
}

bool ClientSession::tls_active() const {
  return impl_->tls;
}

const Capabilities& ClientSession::capabilities() const {
  return impl_->caps;
}

std::size_t ClientSession::messages_sent() const {
  return impl_->sent_messages;
}

std::chrono::seconds ClientSession::reply_timeout() const {
  return impl_->reply_timeout();
}

std::size_t ClientSession::replies_received() const {
  return impl_->replies;
}

}  // namespace postern::smtp::client
