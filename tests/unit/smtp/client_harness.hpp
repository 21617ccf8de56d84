// Replays a scripted SMTP server against a ClientSession: each step feeds
// the server's bytes (split into pieces as the test asks) and then checks
// what the client sent in answer. The driver part does what SmtpCourier
// does: StartTls succeeds at once, Ready sends the queued messages, the last
// MessageDone is followed by quit().
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/client_session.hpp"

namespace postern::smtp::client::test_support {

struct Step {
  std::string server;  // bytes the server sends
  std::string client;  // bytes the client must answer with
};

struct DialogueRun {
  std::string transcript;  // everything the client sent
  std::vector<std::vector<RecipientReply>> done;
  std::optional<Failed> failed;
  int ready = 0;
  int start_tls = 0;
  bool closed = false;
  bool mismatch = false;
  std::string mismatch_text;
};

class ScriptedPeer {
 public:
  ScriptedPeer(ClientSettings settings, std::vector<OutgoingMessage> messages)
      : session_(std::move(settings)), messages_(std::move(messages)) {}

  ClientSession& session() { return session_; }
  DialogueRun& run() { return run_; }

  // Feeds `bytes` in pieces of `piece` bytes (0 = all at once), draining
  // actions after each piece; returns what the client sent meanwhile.
  std::string feed(const std::string& bytes, std::size_t piece) {
    const std::size_t before = run_.transcript.size();
    if (piece == 0) piece = bytes.size() ? bytes.size() : 1;
    for (std::size_t i = 0; i < bytes.size(); i += piece) {
      session_.feed(std::string_view(bytes).substr(i, piece));
      drain();
    }
    return run_.transcript.substr(before);
  }

  // Feeds a script step by step; the first byte split point is `split`
  // within each step's server bytes (0 = no split), or one byte at a time
  // when `one_at_a_time`.
  void play(const std::vector<Step>& script, std::size_t split, bool one_at_a_time) {
    drain();
    for (const Step& step : script) {
      const std::size_t before = run_.transcript.size();
      if (one_at_a_time) {
        feed(step.server, 1);
      } else if (split > 0 && split < step.server.size()) {
        session_.feed(std::string_view(step.server).substr(0, split));
        drain();
        session_.feed(std::string_view(step.server).substr(split));
        drain();
      } else {
        feed(step.server, 0);
      }
      const std::string sent = run_.transcript.substr(before);
      if (sent != step.client && !run_.mismatch) {
        run_.mismatch = true;
        run_.mismatch_text = "after server sent [" + step.server + "]\nexpected client [" +
                             step.client + "]\n     got client [" + sent + "]";
      }
    }
  }

  void drain() {
    for (;;) {
      auto actions = session_.take_actions();
      if (actions.empty()) return;
      for (auto& a : actions) {
        if (auto* s = std::get_if<SendBytes>(&a)) {
          run_.transcript += s->bytes;
        } else if (std::holds_alternative<StartTls>(a)) {
          ++run_.start_tls;
          if (tls_fails_) {
            session_.tls_failed("handshake failure");
          } else {
            session_.tls_established();
          }
        } else if (std::holds_alternative<Ready>(a)) {
          ++run_.ready;
          send_next();
        } else if (auto* d = std::get_if<MessageDone>(&a)) {
          run_.done.push_back(d->results);
          if (session_.ready()) send_next();
        } else if (auto* f = std::get_if<Failed>(&a)) {
          run_.failed = *f;
        } else if (std::holds_alternative<Close>(a)) {
          run_.closed = true;
        }
      }
    }
  }

  void set_tls_fails() { tls_fails_ = true; }

 private:
  void send_next() {
    if (next_ < messages_.size()) {
      session_.send_message(messages_[next_++]);
    } else {
      session_.quit();
    }
  }

  ClientSession session_;
  std::vector<OutgoingMessage> messages_;
  std::size_t next_ = 0;
  bool tls_fails_ = false;
  DialogueRun run_;
};

// A small message body the scripts expect after DATA.
inline const std::string kData = "Subject: hi\r\n\r\nhello\r\n";

// A message from `from` to `rcpts` (no DSN parameters) with `data`.
inline OutgoingMessage outgoing(std::string from, const std::vector<std::string>& rcpts,
                                std::string_view data) {
  OutgoingMessage m;
  m.mail_from = std::move(from);
  for (const auto& r : rcpts) m.recipients.push_back(Recipient{r, "", ""});
  m.data = data;  // a view: `data` must outlive the message
  return m;
}

// Plays the script unsplit, split at every byte of every step, and one byte
// at a time; `check` sees each run (after the transcript matched).
inline void replay(const ClientSettings& settings, const std::vector<OutgoingMessage>& messages,
                   const std::vector<Step>& script,
                   const std::function<void(const DialogueRun&)>& check) {
  std::size_t longest = 0;
  for (const Step& s : script) longest = std::max(longest, s.server.size());
  for (std::size_t split = 0; split <= longest + 1; ++split) {
    for (bool one : {false, true}) {
      if (one && split > 0) continue;
      ScriptedPeer peer(settings, messages);
      peer.play(script, split, one);
      SCOPED_TRACE("split=" + std::to_string(split) + (one ? " one byte at a time" : ""));
      ASSERT_FALSE(peer.run().mismatch) << peer.run().mismatch_text;
      check(peer.run());
    }
  }
}

}  // namespace postern::smtp::client::test_support
