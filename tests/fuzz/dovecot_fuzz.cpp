// Dovecot's auth protocols as postern reads them (src/dovecot/): what
// comes back on the auth-client socket (AuthClientDialogue) and on the
// auth-userdb socket (UserdbDialogue), plus the TAB escaping both share.
// Whatever the peer sends, and however it is split: the same verdict, the
// same user and reason; never "ok" unless an OK for our request id came
// after our AUTH line, never "not found" without a NOTFOUND line; a closed
// connection always ends the dialogue; escaping round-trips.
#include <cstdint>
#include <string>

#include "dovecot/auth_client_dialogue.hpp"
#include "dovecot/userdb_dialogue.hpp"
#include "dovecot/wire.hpp"
#include "fuzz_input.hpp"

using namespace postern;
using namespace postern::dovecot;

namespace {

struct AuthOutcome {
  AuthVerdict verdict;
  std::string user;
  std::string reason;
  std::string sent;
};

AuthOutcome authenticate(const std::vector<std::string_view>& parts, bool login) {
  AuthRequest request;
  request.mechanism = login ? "LOGIN" : "PLAIN";
  request.user = "alice@example.test";
  request.password = "correct horse";
  request.client_ip = "192.0.2.7";
  request.local_ip = "192.0.2.1";
  request.secured = true;
  request.client_pid = 4242;
  AuthClientDialogue d(std::move(request));
  std::string sent = d.take_output();
  for (const std::string_view p : parts) {
    d.feed(p);
    sent += d.take_output();
  }
  if (!d.done()) d.peer_closed();
  FUZZ_CHECK(d.done());
  FUZZ_CHECK(d.verdict() != AuthVerdict::pending);
  // Our password never reaches the reason (it is logged), except as text the
  // peer itself sent: a reason may quote the peer, and fuzzed peer bytes can
  // spell anything, the password included.
  std::string peer;
  for (const std::string_view p : parts) peer += p;
  const bool peer_said_it = peer.find("correct horse") != std::string::npos;
  FUZZ_CHECK(peer_said_it || d.reason().find("correct horse") == std::string::npos);
  return {d.verdict(), d.user(), d.reason(), std::move(sent)};
}

struct UserOutcome {
  UserVerdict verdict;
  std::string reason;
};

UserOutcome lookup(const std::vector<std::string_view>& parts) {
  UserdbDialogue d("bob@example.test", 7);
  const std::string sent = d.take_output();
  FUZZ_CHECK(sent.find("USER\t7\tbob@example.test\tservice=smtp\n") != std::string::npos);
  for (const std::string_view p : parts) d.feed(p);
  if (!d.done()) d.peer_closed();
  FUZZ_CHECK(d.done());
  return {d.verdict(), d.reason()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const bool login = in.flag();
  std::vector<std::uint8_t> sizes;
  for (int i = 1 + in.byte() % 4; i > 0; --i) sizes.push_back(in.byte());
  const std::string_view bytes = in.rest();
  const auto parts = fuzz::pieces(bytes, sizes);

  const AuthOutcome whole = authenticate({bytes}, login);
  const AuthOutcome split = authenticate(parts, login);
  FUZZ_CHECK(whole.verdict == split.verdict);
  FUZZ_CHECK(whole.user == split.user);
  FUZZ_CHECK(whole.reason == split.reason);
  FUZZ_CHECK(whole.sent == split.sent);
  if (whole.verdict == AuthVerdict::ok) {
    FUZZ_CHECK(whole.sent.find("\nAUTH\t1\t") != std::string::npos);
    FUZZ_CHECK(bytes.find("OK\t1") != std::string_view::npos);
  }

  const UserOutcome u_whole = lookup({bytes});
  const UserOutcome u_split = lookup(parts);
  FUZZ_CHECK(u_whole.verdict == u_split.verdict);
  FUZZ_CHECK(u_whole.reason == u_split.reason);
  if (u_whole.verdict == UserVerdict::not_found) {
    FUZZ_CHECK(bytes.find("NOTFOUND\t7") != std::string_view::npos);
  }
  if (u_whole.verdict == UserVerdict::exists) {
    FUZZ_CHECK(bytes.find("USER\t7") != std::string_view::npos);
  }

  // Escaping: what we escape comes back unchanged and holds no TAB or LF.
  const std::string escaped = tab_escape(bytes);
  FUZZ_CHECK(escaped.find_first_of("\t\n\r") == std::string::npos);
  FUZZ_CHECK(tab_unescape(escaped) == bytes);
  (void)tab_unescape(bytes);
  std::string joined;
  for (const std::string_view f : split_fields(bytes)) {
    joined += (joined.empty() && f.data() == bytes.data() ? "" : "\t");
    joined += f;
  }
  FUZZ_CHECK(joined.size() == bytes.size());
  return 0;
}
