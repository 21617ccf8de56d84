#include "micro/sample_messages.hpp"

#include <string_view>

namespace postern::bench {
namespace {

constexpr std::string_view kHeader =
    "From: Sender <sender@example.org>\n"
    "To: Alice <alice@example.com>\n"
    "Subject: benchmark message\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
    "Message-ID: <bench.1700000000@client.example.org>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=us-ascii\n";

// 72 octets of text per body line (RFC 5322 §2.1.1 recommends at most 78).
constexpr std::string_view kText =
    "The quick brown fox jumps over the lazy dog; pack my box with five dozen";
static_assert(kText.size() == 72);

constexpr std::string_view kEndMarker = "\r\n.\r\n";

}  // namespace

std::string wire_message(std::size_t total, LineEnding ending, bool dot_stuffed) {
  const std::string_view eol = ending == LineEnding::crlf ? "\r\n" : "\n";
  std::string out;
  out.reserve(total);
  for (std::size_t start = 0; start < kHeader.size();) {
    const std::size_t lf = kHeader.find('\n', start);
    out.append(kHeader.substr(start, lf - start));
    out.append(eol);
    start = lf + 1;
  }
  // The blank line between header and body; the body's first line follows.
  out.append(eol);
  const std::size_t room = total - kEndMarker.size();
  for (std::size_t line = 0;; ++line) {
    const std::string_view stuffing = dot_stuffed && line % 2 == 1 ? ".." : "";
    const std::size_t whole = stuffing.size() + kText.size() + eol.size();
    // Each full line leaves room for a last line of stuffing and at least
    // one octet; that last line fills the message to exactly `total`.
    if (out.size() + whole + 3 > room) {
      out.append(stuffing);
      out.append(room - out.size(), 'x');
      break;
    }
    out.append(stuffing);
    out.append(kText);
    out.append(eol);
  }
  out.append(kEndMarker);
  return out;
}

std::string command_lines(std::size_t total, LineEnding ending) {
  const std::string_view eol = ending == LineEnding::crlf ? "\r\n" : "\n";
  std::string out;
  for (unsigned n = 0; out.size() < total; ++n) {
    out.append("RCPT TO:<user");
    out.append(std::to_string(n));
    out.append("@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;user@example.com");
    out.append(eol);
  }
  return out;
}

}  // namespace postern::bench
