// A deterministic fuzz run of ServerSession: random mixes of commands,
// message text, CR/LF/NUL and garbage, fed in random pieces to random
// listener kinds with random failures injected. Nothing may crash, the
// buffer stays bounded, and every "queued" reply belongs to a committed
// message.
#include <gtest/gtest.h>

#include <random>

#include "unit/smtp/session_harness.hpp"

namespace postern::smtp::test {
namespace {

class Rng {
 public:
  explicit Rng(std::uint32_t seed) : g_(seed) {}
  // mt19937's output is specified; the distributions are not, so the
  // mapping to a range is done here to stay the same everywhere.
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(g_() % n); }
  bool chance(std::size_t percent) { return below(100) < percent; }

 private:
  std::mt19937 g_;
};

const std::vector<std::string> kTokens = {
    "EHLO fuzz\r\n",
    "HELO fuzz\r\n",
    "MAIL FROM:<a@remote.example>\r\n",
    "MAIL FROM:<alice@example.com> SIZE=10\r\n",
    "MAIL FROM:<>\r\n",
    "RCPT TO:<alice@example.com>\r\n",
    "RCPT TO:<bob@example.com> NOTIFY=NEVER\r\n",
    "RCPT TO:<x@remote.example>\r\n",
    "RCPT TO:<nobody@example.com>\r\n",
    "DATA\r\n",
    "BDAT 5\r\n",
    "BDAT 3 LAST\r\n",
    "BDAT 0 LAST\r\n",
    "STARTTLS\r\n",
    "AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==\r\n",
    "AUTH PLAIN\r\n",
    "AUTH LOGIN\r\n",
    "YWxpY2VAZXhhbXBsZS5jb20=\r\n",
    "c2VjcmV0\r\n",
    "*\r\n",
    "RSET\r\n",
    "NOOP\r\n",
    "VRFY x\r\n",
    "QUIT\r\n",
    "GET / HTTP/1.1\r\n",
    "Subject: hi\r\n\r\nbody\r\n",
    "\r\n.\r\n",
    ".\r\n",
    "..x\r\n",
    "\n.\n",
    "\r.\r\n",
    "\r\n.\r",
    "\r",
    "\n",
    std::string("\0", 1),
    std::string("\x16\x03\x01", 3),
    "x",
};

// A plausible transaction, so that the corpus reaches DATA, BDAT and the
// commit often enough; the random tokens around it break it up.
std::string transaction(Rng& rng) {
  std::string t = "MAIL FROM:<alice@example.com>\r\nRCPT TO:<alice@example.com>\r\n";
  if (rng.chance(30)) t += "RCPT TO:<x@remote.example>\r\n";
  if (rng.chance(70)) {
    t += "DATA\r\n";
    const std::size_t n = rng.below(6);
    for (std::size_t i = 0; i < n; ++i) t += kTokens[rng.below(kTokens.size())];
    t += "\r\n.\r\n";
  } else {
    const std::string chunk = kTokens[rng.below(kTokens.size())];
    t += "BDAT " + std::to_string(chunk.size()) + (rng.chance(50) ? " LAST" : "") + "\r\n" + chunk;
    if (rng.chance(50)) t += "BDAT 0 LAST\r\n";
  }
  return t;
}

std::string random_input(Rng& rng, const SessionSettings& s) {
  std::string in;
  if (rng.chance(70)) {
    in += "EHLO fuzz\r\n";
    if (s.tls == TlsMode::starttls || s.tls == TlsMode::starttls_required) {
      in += "STARTTLS\r\n";
    }
  }
  const std::size_t n = 1 + rng.below(40);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t kind = rng.below(100);
    if (kind < 60) {
      in += kTokens[rng.below(kTokens.size())];
    } else if (kind < 75) {
      in += "EHLO fuzz\r\nAUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==\r\n" + transaction(rng);
    } else if (kind < 95) {
      const std::size_t len = 1 + rng.below(20);
      for (std::size_t j = 0; j < len; ++j) in += static_cast<char>(rng.below(256));
    } else {
      in += std::string(rng.below(3 * kMaxCommandLine), static_cast<char>('a' + rng.below(26)));
    }
  }
  return in;
}

SessionSettings random_settings(Rng& rng) {
  const Role role = rng.chance(50) ? Role::relay : Role::submission;
  const TlsMode modes[] = {TlsMode::none, TlsMode::starttls, TlsMode::starttls_required,
                           TlsMode::implicit};
  SessionSettings s = settings(role, modes[rng.below(4)]);
  s.insecure_auth = rng.chance(30);
  s.client_in_relay_networks = rng.chance(20);
  s.limits.max_message_size = 20 + rng.below(200);
  s.limits.max_recipients = 1 + rng.below(4);
  s.limits.max_errors = 3 + rng.below(20);
  return s;
}

TEST(SessionFuzz, RandomInputKeepsTheInvariants) {
  Rng rng(20240229);
  std::size_t queued = 0;
  std::size_t closed = 0;
  for (int run = 0; run < 3000; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    const SessionSettings s = random_settings(rng);
    Script script;
    if (rng.chance(30)) script.fail_step = static_cast<int>(rng.below(3));
    if (rng.chance(10)) script.close_at_step = static_cast<int>(rng.below(3));
    const std::string in = random_input(rng, s);
    Harness h(s, script);
    h.start();
    std::size_t pos = 0;
    while (pos < in.size()) {
      const std::size_t n = std::min(in.size() - pos, 1 + rng.below(rng.chance(20) ? 3 : 300));
      h.feed(std::string_view(in).substr(pos, n));
      pos += n;
      ASSERT_LE(h.session().buffered(), kMaxCommandLine + 1);
      if (h.session().closed()) {
        EXPECT_EQ(h.session().buffered(), 0u);
        EXPECT_FALSE(h.session().wants_input());
      } else {
        EXPECT_TRUE(h.session().wants_input()) << "paused with nothing outstanding";
      }
    }
    if (rng.chance(50)) {
      h.peer_closed();
    } else {
      h.timeout();
    }
    check_invariants(h.outcome());
    for (const auto& r : h.outcome().replies) {
      if (r.starts_with("250 2.0.0 Ok: queued")) ++queued;
    }
    closed += h.closed() ? 1 : 0;
    if (::testing::Test::HasFailure()) break;
  }
  // The corpus reaches deep enough to queue messages at all.
  EXPECT_GT(queued, 20u);
  EXPECT_EQ(closed, 3000u);
}

}  // namespace
}  // namespace postern::smtp::test
