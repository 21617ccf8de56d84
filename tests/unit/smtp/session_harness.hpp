// A scripted driver for ServerSession, for unit tests that read like the
// dialogue they check:
//
//   expect_dialogue(relay(), {"C: EHLO x", "S: 250", "C: MAIL FROM:<a@b>", "S: 250 2.1.0"});
//
// "C: text" is a client line (CRLF appended), "R: bytes" raw client bytes
// (nothing appended); consecutive C/R lines form one flight that the client
// sends before waiting. "S: prefix" expects one complete reply whose first
// line starts with `prefix` (the '-' of a multi-line reply reads as ' ').
// S lines before the first C line match the greeting; without any, the
// greeting must be one 220 reply.
//
// The harness answers asynchronous actions at once, following a Script:
// StartTls -> tls_established(TLSv1.3) or tls_failed; VerifyCredentials ->
// ok when the password matches, throttled for listed users, else invalid;
// CommitMessage -> message_committed("Q<n>") or message_failed.
//
// STYLE habit 13: expect_dialogue also replays the client's bytes split at
// every position and one byte at a time (identical replies and committed
// data required), and replays it with a failure injected at each
// asynchronous step and with peer_closed at every byte position and at each
// asynchronous step; no run may report 250 for data that was not committed.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/static_directory.hpp"
#include "smtp/server_session.hpp"

namespace postern::smtp::test {

inline const policy::StaticDirectory& directory() {
  static const policy::StaticDirectory d(
      {"example.com", "example.org"},
      {"alice@example.com", "bob@example.com", "carol@example.org"});
  return d;
}

// The same domains with mailboxes in an outside user database (Dovecot):
// RCPT to a local domain becomes a LookupRecipient action.
class RemoteMailboxes : public policy::StaticDirectory {
 public:
  using StaticDirectory::StaticDirectory;
  bool mailboxes_are_remote() const override { return true; }
};
inline const policy::Directory& remote_directory() {
  static const RemoteMailboxes d({"example.com", "example.org"}, {});
  return d;
}

inline SessionSettings settings(Role role, TlsMode tls) {
  SessionSettings s;
  s.hostname = "mx.example.com";
  s.listener = "127.0.0.1:2525";
  s.role = role;
  s.tls = tls;
  s.session_id = "S1";
  s.client_ip = "192.0.2.7";
  s.client_port = 40000;
  s.now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  return s;
}
inline SessionSettings relay(TlsMode tls = TlsMode::none) {
  return settings(Role::relay, tls);
}
inline SessionSettings submission(TlsMode tls = TlsMode::starttls_required) {
  return settings(Role::submission, tls);
}

struct Script {
  std::map<std::string, std::string> passwords{{"alice@example.com", "secret"}};
  std::set<std::string> throttled;  // users answered with AuthOutcome::throttled
  // The verifier's name for a user (Dovecot's user=), given back with ok.
  std::map<std::string, std::string> canonical;
  // Mailboxes in an outside user database: RCPT asks (LookupRecipient),
  // answered from `known` (exists) or not_found; a failed step answers
  // temporary_failure (Dovecot down).
  bool remote_mailboxes = false;
  std::set<std::string> known;
  // Index (from 0) of the asynchronous step that fails: TLS fails, the
  // credentials are invalid, the lookup fails, the commit fails. -1: none.
  int fail_step = -1;
  // Index of the asynchronous step during which the peer goes away: the
  // harness calls peer_closed() and then completes the step successfully
  // (as a spool write that was already under way would). -1: none.
  int close_at_step = -1;
  // Per-user limits (settings.user_rate_limits): CheckRate is answered
  // allowed while the budget lasts, then refused with "5/1m", retry 42 s.
  int message_budget = 1000;
  int recipient_budget = 1000;
};

enum class StepKind { tls, auth, lookup, commit };

struct Step {
  StepKind kind;
  bool failed = false;
  bool lost = false;               // the peer went away before the step was answered
  std::size_t replies_before = 0;  // replies sent before the step was answered
};

struct Outcome {
  std::vector<std::string> replies;  // one entry per SendReply
  std::vector<CommitMessage> commits;
  std::vector<std::string> committed_ids;  // answered message_committed
  std::vector<std::string> committed_data;
  std::vector<VerifyCredentials> verifies;
  std::vector<LookupRecipient> lookups;
  std::vector<CheckRate> rate_checks;
  std::vector<LogEvent> logs;
  std::vector<Step> steps;
  std::vector<std::string> close_reasons;
  bool action_after_close = false;
  std::size_t max_buffered = 0;
  std::size_t feeds = 0;
};

// First line of a reply with the continuation '-' read as ' ', no CRLF.
inline std::string head(std::string_view reply) {
  std::string h(reply.substr(0, reply.find("\r\n")));
  if (h.size() > 3 && h[3] == '-') h[3] = ' ';
  return h;
}

inline bool no_bare_line_ends(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 >= s.size() || s[i + 1] != '\n')) return false;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
  }
  return true;
}

class Harness {
 public:
  explicit Harness(SessionSettings s, Script script = {},
                   const policy::Directory& dir = directory())
      : script_(std::move(script)),
        implicit_(s.tls == TlsMode::implicit),
        session_(s, script_.remote_mailboxes ? remote_directory() : dir) {}

  void start() {
    if (implicit_) session_.tls_established(TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256"});
    session_.start();
    drain();
  }
  void feed(std::string_view bytes) {
    ++out_.feeds;
    session_.feed(bytes);
    out_.max_buffered = std::max(out_.max_buffered, session_.buffered());
    drain();
  }
  void peer_closed() {
    session_.peer_closed();
    drain();
  }
  void timeout() {
    session_.timeout();
    drain();
  }
  ServerSession& session() { return session_; }
  const Outcome& outcome() const { return out_; }
  bool closed() const { return !out_.close_reasons.empty(); }
  // Replies since the last call.
  std::vector<std::string> new_replies() {
    std::vector<std::string> r(out_.replies.begin() + static_cast<long>(seen_), out_.replies.end());
    seen_ = out_.replies.size();
    return r;
  }

 private:
  void drain() {
    for (;;) {
      auto actions = session_.take_actions();
      if (actions.empty()) return;
      for (auto& a : actions) {
        if (closed()) out_.action_after_close = true;
        if (auto* r = std::get_if<SendReply>(&a)) {
          out_.replies.push_back(r->bytes);
        } else if (auto* l = std::get_if<LogEvent>(&a)) {
          out_.logs.push_back(*l);
        } else if (auto* c = std::get_if<Close>(&a)) {
          out_.close_reasons.push_back(c->reason);
        } else if (std::holds_alternative<StartTls>(a)) {
          answer(StepKind::tls, a);
        } else if (std::holds_alternative<VerifyCredentials>(a)) {
          out_.verifies.push_back(std::get<VerifyCredentials>(a));
          answer(StepKind::auth, a);
        } else if (auto* lookup = std::get_if<LookupRecipient>(&a)) {
          out_.lookups.push_back(*lookup);
          answer(StepKind::lookup, a);
        } else if (auto* rate = std::get_if<CheckRate>(&a)) {
          out_.rate_checks.push_back(*rate);
          int& budget =
              rate->kind == RateKind::messages ? script_.message_budget : script_.recipient_budget;
          RateDecision d;
          if (budget > 0) {
            --budget;
          } else {
            d.allowed = false;
            d.limit = "5/1m";
            d.retry_after = std::chrono::seconds(42);
          }
          session_.rate_result(d);
        } else if (auto* m = std::get_if<CommitMessage>(&a)) {
          out_.commits.push_back(*m);
          answer(StepKind::commit, a);
        }
      }
    }
  }

  void answer(StepKind kind, const Action& a) {
    const int index = static_cast<int>(out_.steps.size());
    Step step{kind, index == script_.fail_step, index == script_.close_at_step,
              out_.replies.size()};
    out_.steps.push_back(step);
    if (step.lost) session_.peer_closed();
    switch (kind) {
      case StepKind::tls:
        if (step.failed) {
          session_.tls_failed();
        } else {
          session_.tls_established(TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256"});
        }
        return;
      case StepKind::auth: {
        const auto& v = std::get<VerifyCredentials>(a);
        AuthOutcome o = AuthOutcome::invalid;
        if (script_.throttled.count(v.user) != 0) {
          o = AuthOutcome::throttled;
        } else if (auto it = script_.passwords.find(v.user);
                   it != script_.passwords.end() && it->second == v.password) {
          o = AuthOutcome::ok;
        }
        const auto canonical = script_.canonical.find(v.user);
        session_.credentials_result(
            step.failed ? AuthOutcome::invalid : o,
            canonical == script_.canonical.end() ? std::string_view() : canonical->second);
        return;
      }
      case StepKind::lookup: {
        const auto& l = std::get<LookupRecipient>(a);
        session_.recipient_result(step.failed ? RecipientLookup::temporary_failure
                                  : script_.known.count(l.address) != 0
                                      ? RecipientLookup::exists
                                      : RecipientLookup::not_found);
        return;
      }
      case StepKind::commit:
        if (step.failed) {
          session_.message_failed("injected failure");
        } else {
          const std::string id = "Q" + std::to_string(++commit_counter_);
          out_.committed_ids.push_back(id);
          out_.committed_data.push_back(std::get<CommitMessage>(a).data);
          session_.message_committed(id);
        }
        return;
    }
  }

  Script script_;
  bool implicit_;
  ServerSession session_;
  Outcome out_;
  std::size_t seen_ = 0;
  int commit_counter_ = 0;
};

// ---- dialogue scripts ---------------------------------------------------------

inline std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// EHLO, STARTTLS, EHLO again.
inline const std::vector<std::string> kStartTls = {
    "C: EHLO client.example", "S: 250", "C: STARTTLS", "S: 220 2.0.0",
    "C: EHLO client.example", "S: 250"};
// AUTH PLAIN for alice@example.com with password "secret".
inline const std::vector<std::string> kAuthAlice = {
    "C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==", "S: 235 2.7.0"};

struct Flight {
  std::string bytes;
  std::vector<std::string> expect;
};
struct Dialogue {
  std::vector<std::string> greeting;
  std::vector<Flight> flights;
  std::string stream() const {
    std::string s;
    for (const auto& f : flights) s += f.bytes;
    return s;
  }
};

inline Dialogue parse_dialogue(const std::vector<std::string>& lines) {
  Dialogue d;
  bool in_client = false;
  for (const auto& l : lines) {
    const std::string_view tag = std::string_view(l).substr(0, 3);
    const std::string text = l.substr(std::min<std::size_t>(3, l.size()));
    if (tag == "C: " || tag == "R: ") {
      if (!in_client) d.flights.emplace_back();
      in_client = true;
      d.flights.back().bytes += text + (tag == "C: " ? "\r\n" : "");
    } else if (tag == "S: ") {
      in_client = false;
      (d.flights.empty() ? d.greeting : d.flights.back().expect).push_back(text);
    } else {
      ADD_FAILURE() << "dialogue line must start with \"C: \", \"R: \" or \"S: \": " << l;
    }
  }
  return d;
}

// Invariants every run must keep, whatever was injected.
inline void check_invariants(const Outcome& o) {
  EXPECT_FALSE(o.action_after_close) << "the session acted after Close";
  EXPECT_LE(o.close_reasons.size(), 1u);
  std::set<std::string> committed(o.committed_ids.begin(), o.committed_ids.end());
  std::set<std::string> reported;
  for (const auto& r : o.replies) {
    EXPECT_TRUE(r.size() >= 5 && r.ends_with("\r\n")) << r;
    const std::string h = head(r);
    static constexpr std::string_view kQueued = "250 2.0.0 Ok: queued as ";
    if (h.starts_with(kQueued)) {
      const std::string id = h.substr(kQueued.size());
      EXPECT_EQ(committed.count(id), 1u) << "250 for a message never committed: " << h;
      EXPECT_TRUE(reported.insert(id).second) << "queued twice: " << h;
    }
  }
  for (const auto& d : o.committed_data) {
    EXPECT_TRUE(no_bare_line_ends(d)) << "bare CR or LF in committed data";
  }
  for (const auto& s : o.steps) {
    if (!s.failed || s.lost) continue;
    if (s.kind == StepKind::commit) {
      ASSERT_GT(o.replies.size(), s.replies_before) << "no reply after a failed commit";
      EXPECT_TRUE(head(o.replies[s.replies_before]).starts_with("452 4.3.1"))
          << o.replies[s.replies_before];
    } else if (s.kind == StepKind::lookup) {
      // Dovecot down: 451 4.3.0, never 550.
      ASSERT_GT(o.replies.size(), s.replies_before) << "no reply after a failed lookup";
      EXPECT_TRUE(head(o.replies[s.replies_before]).starts_with("451 4.3.0"))
          << o.replies[s.replies_before];
    } else if (s.kind == StepKind::tls) {
      EXPECT_EQ(o.replies.size(), s.replies_before) << "replies after a failed TLS handshake";
      EXPECT_EQ(o.close_reasons.size(), 1u);
    } else {
      ASSERT_GT(o.replies.size(), s.replies_before);
      EXPECT_TRUE(head(o.replies[s.replies_before]).starts_with("535 5.7.8"));
    }
  }
}

struct Variants {
  bool splits = true;    // byte splits and one byte at a time
  bool failures = true;  // failure injection and peer_closed everywhere
};

// Feeds the flights in order; `cut` (a position in the whole stream) splits
// the flight containing it in two; `one_byte` feeds byte by byte; the peer
// goes away at stream position `close_at` when given.
inline Outcome replay(const SessionSettings& s, const Dialogue& d, const Script& script,
                      std::size_t cut, bool one_byte, std::size_t close_at = std::string::npos) {
  Harness h(s, script);
  h.start();
  std::size_t pos = 0;
  for (const auto& f : d.flights) {
    std::string_view b = f.bytes;
    if (close_at != std::string::npos && pos + b.size() > close_at) {
      b = b.substr(0, close_at - pos);
    }
    if (one_byte) {
      for (char c : b) h.feed(std::string_view(&c, 1));
    } else if (cut > pos && cut < pos + b.size()) {
      h.feed(b.substr(0, cut - pos));
      h.feed(b.substr(cut - pos));
    } else if (!b.empty()) {
      h.feed(b);
    }
    pos += b.size();
    if (close_at != std::string::npos && pos >= close_at) {
      h.peer_closed();
      break;
    }
  }
  return h.outcome();
}

inline Outcome expect_dialogue(const SessionSettings& s, const std::vector<std::string>& lines,
                               Script script = {}, Variants variants = {}) {
  const Dialogue d = parse_dialogue(lines);
  // The dialogue as written: flight by flight, replies checked after each.
  Harness h(s, script);
  h.start();
  {
    const auto greeting = h.new_replies();
    if (d.greeting.empty()) {
      EXPECT_EQ(greeting.size(), 1u);
      if (!greeting.empty()) {
        EXPECT_TRUE(greeting[0].starts_with("220 ")) << greeting[0];
      }
    } else {
      EXPECT_EQ(greeting.size(), d.greeting.size());
      for (std::size_t i = 0; i < std::min(greeting.size(), d.greeting.size()); ++i) {
        EXPECT_TRUE(head(greeting[i]).starts_with(d.greeting[i]))
            << "greeting " << i << ": expected \"" << d.greeting[i] << "\", got \""
            << head(greeting[i]) << "\"";
      }
    }
  }
  for (std::size_t n = 0; n < d.flights.size(); ++n) {
    const auto& f = d.flights[n];
    h.feed(f.bytes);
    const auto got = h.new_replies();
    std::string got_text;
    for (const auto& g : got) got_text += "  " + head(g) + "\n";
    EXPECT_EQ(got.size(), f.expect.size())
        << "after flight " << n << " \"" << f.bytes << "\" the server said:\n"
        << got_text;
    for (std::size_t i = 0; i < std::min(got.size(), f.expect.size()); ++i) {
      EXPECT_TRUE(head(got[i]).starts_with(f.expect[i]))
          << "after flight " << n << " \"" << f.bytes << "\": expected \"" << f.expect[i]
          << "\", got \"" << head(got[i]) << "\"";
    }
  }
  const Outcome base = h.outcome();
  check_invariants(base);
  if (::testing::Test::HasFailure()) return base;

  const std::string stream = d.stream();
  const auto same = [&](const Outcome& o, const std::string& what) {
    EXPECT_EQ(o.replies, base.replies) << what;
    EXPECT_EQ(o.committed_data, base.committed_data) << what;
    EXPECT_EQ(o.close_reasons, base.close_reasons) << what;
    check_invariants(o);
  };
  if (variants.splits) {
    same(replay(s, d, script, 0, true), "fed one byte at a time");
    for (std::size_t cut = 1; cut < stream.size() && !::testing::Test::HasFailure(); ++cut) {
      same(replay(s, d, script, cut, false), "split at byte " + std::to_string(cut));
    }
  }
  if (variants.failures) {
    for (int k = 0; k < static_cast<int>(base.steps.size()); ++k) {
      Script fail = script;
      fail.fail_step = k;
      const Outcome o = replay(s, d, fail, 0, false);
      SCOPED_TRACE("failure injected at asynchronous step " + std::to_string(k));
      check_invariants(o);
      EXPECT_GT(o.steps.size(), static_cast<std::size_t>(k));
      if (o.steps.size() > static_cast<std::size_t>(k)) {
        EXPECT_TRUE(o.steps[static_cast<std::size_t>(k)].failed);
      }
      // The failed step's message is never reported queued.
      EXPECT_LE(o.committed_ids.size(), base.committed_ids.size());
      Script lost = script;
      lost.close_at_step = k;
      const Outcome c = replay(s, d, lost, 0, false);
      SCOPED_TRACE("peer closed during asynchronous step " + std::to_string(k));
      check_invariants(c);
      EXPECT_EQ(c.replies.size(), base.steps[static_cast<std::size_t>(k)].replies_before)
          << "the session replied after the peer went away";
    }
    for (std::size_t at = 0; at <= stream.size(); ++at) {
      const Outcome o = replay(s, d, script, 0, false, at);
      SCOPED_TRACE("peer closed at byte " + std::to_string(at));
      check_invariants(o);
      if (::testing::Test::HasFailure()) break;
    }
  }
  return base;
}

}  // namespace postern::smtp::test
