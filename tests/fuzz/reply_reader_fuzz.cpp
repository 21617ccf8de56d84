// The SMTP client's reply reader and session (smtp/reply_reader.hpp,
// smtp/client_session.hpp): what a remote server, possibly hostile, sends
// to our delivery. Parsegrind property for the reader: however the bytes
// are split, the same replies come out. The session is driven to the end
// with whatever it asks for granted, as an SMTP client or (mode bit 4) as
// the LMTP client of the local courier (RFC 2033: LHLO, and one reply per
// accepted recipient after the final dot).
#include <cstdint>
#include <string>
#include <variant>

#include "fuzz_input.hpp"
#include "smtp/client_session.hpp"
#include "smtp/reply_reader.hpp"

using namespace postern;
using namespace postern::smtp::client;

namespace {

std::vector<std::string> replies(const std::vector<std::string_view>& parts, bool& malformed) {
  ReplyReader reader;
  std::vector<std::string> out;
  malformed = false;
  for (const std::string_view p : parts) {
    reader.append(p);
    ServerReply r;
    for (;;) {
      const ReplyReader::Result res = reader.next(r);
      if (res == ReplyReader::Result::incomplete) break;
      if (res == ReplyReader::Result::malformed) {
        malformed = true;
        return out;
      }
      FUZZ_CHECK(r.code >= 0 && r.code <= 999);
      FUZZ_CHECK(r.lines.size() <= kMaxReplyLines);
      out.push_back(r.summary());
    }
  }
  return out;
}

void drive_session(std::string_view bytes, const std::vector<std::uint8_t>& sizes, bool auth,
                   bool tls_required, bool lmtp) {
  ClientSettings settings;
  settings.lmtp = lmtp;
  settings.helo_name = "fuzz.example";
  settings.tls = tls_required ? TlsPolicy::required : TlsPolicy::opportunistic;
  if (auth) settings.credentials = Credentials{"user", "secret"};
  ClientSession s(settings);
  const std::string data = "Subject: fuzz\r\n\r\n.body\r\n";
  OutgoingMessage message;
  message.mail_from = "a@example.test";
  message.recipients = {Recipient{"b@example.test", {}, {}}, Recipient{"c@example.test", {}, {}}};
  message.data = data;
  int messages = 0;
  auto run_actions = [&] {
    for (int guard = 0; guard < 64; ++guard) {
      const std::vector<ClientAction> actions = s.take_actions();
      if (actions.empty()) return;
      for (const ClientAction& a : actions) {
        if (std::holds_alternative<StartTls>(a)) {
          s.tls_established();
        } else if (std::holds_alternative<Ready>(a)) {
          if (messages++ < 2)
            s.send_message(message);
          else
            s.quit();
        } else if (const auto* done = std::get_if<MessageDone>(&a)) {
          FUZZ_CHECK(done->results.size() == message.recipients.size());
        }
      }
    }
  };
  for (const std::string_view p : fuzz::pieces(bytes, sizes)) {
    if (s.closed()) break;
    s.feed(p);
    run_actions();
  }
  if (!s.closed()) {
    s.peer_closed();
    run_actions();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::uint8_t mode = in.byte();
  std::vector<std::uint8_t> sizes;
  for (int i = 1 + in.byte() % 4; i > 0; --i) sizes.push_back(in.byte());
  const std::string_view bytes = in.rest();
  bool malformed_whole = false;
  bool malformed_split = false;
  const auto whole = replies({bytes}, malformed_whole);
  const auto split = replies(fuzz::pieces(bytes, sizes), malformed_split);
  if (!malformed_whole && !malformed_split) FUZZ_CHECK(whole == split);
  drive_session(bytes, sizes, mode & 1, mode & 2, mode & 4);
  return 0;
}
