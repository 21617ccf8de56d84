#include "delivery/dsn.hpp"

#include <cstdio>
#include <ctime>

#include "message/date.hpp"

namespace postern::delivery {
namespace {

constexpr std::string_view kCrlf = "\r\n";
// RFC 5322 §2.1.1: lines SHOULD be at most 78 characters and MUST be at
// most 998 (excluding CRLF).
constexpr std::size_t kFoldAt = 78;
constexpr std::size_t kMaxLine = 998;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool has_eight_bit(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

// Text from the queue or a peer goes into header fields: no CR, LF or
// other control characters may survive.
std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u == '\r' || u == '\n' || u == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else if (u >= 0x20 && u != 0x7f) {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// "Name: value" folded at blanks near 78 columns (RFC 5322 §2.2.3), and
// split hard where a single word would pass 998.
std::string header(std::string_view name, std::string_view value) {
  std::string out;
  std::string line = std::string(name) + ": ";
  std::size_t i = 0;
  bool first_word = true;
  while (i < value.size()) {
    std::size_t end = value.find(' ', i);
    if (end == std::string_view::npos) end = value.size();
    std::string_view word = value.substr(i, end - i);
    i = end == value.size() ? end : end + 1;
    if (word.empty()) continue;
    if (!first_word && line.size() + 1 + word.size() > kFoldAt) {
      out += line;
      out += kCrlf;
      line = " ";
    } else if (!first_word) {
      line += ' ';
    }
    first_word = false;
    while (line.size() + word.size() > kMaxLine) {
      const std::size_t take = kMaxLine - line.size();
      line += word.substr(0, take);
      word.remove_prefix(take);
      out += line;
      out += kCrlf;
      line = " ";
    }
    line += word;
  }
  out += line;
  out += kCrlf;
  return out;
}

// Plain text wrapped at 72 columns; the first line starts with `first`,
// the others with `indent`.
std::string wrap(std::string_view text, std::string_view first = "", std::string_view indent = "") {
  std::string out;
  std::string line(first);
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = text.find(' ', i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(i, end - i);
    i = end == text.size() ? end : end + 1;
    if (word.empty()) continue;
    const bool at_start = line.size() == (out.empty() ? first.size() : indent.size());
    if (!at_start && line.size() + 1 + word.size() > 72) {
      out += line;
      out += kCrlf;
      line = std::string(indent);
    } else if (!at_start) {
      line += ' ';
    }
    while (line.size() + word.size() > kMaxLine) {
      const std::size_t take = kMaxLine - line.size();
      line += word.substr(0, take);
      word.remove_prefix(take);
      out += line;
      out += kCrlf;
      line = std::string(indent);
    }
    line += word;
  }
  if (line.size() > (out.empty() ? first.size() : indent.size())) {
    out += line;
    out += kCrlf;
  }
  return out;
}

// The message with every line ending made CRLF.
std::string crlf(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 32 + 2);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\r') {
      out += kCrlf;
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += kCrlf;
    } else {
      out += c;
    }
  }
  if (!out.empty() && !out.ends_with(kCrlf)) out += kCrlf;
  return out;
}

// The header section of a CRLF message, with its terminating CRLF; the
// whole text when there is no body.
std::string_view header_section(std::string_view message) {
  if (message.starts_with(kCrlf)) return {};
  const std::size_t end = message.find("\r\n\r\n");
  return end == std::string_view::npos ? message : message.substr(0, end + 2);
}

bool has_long_line(std::string_view s) {
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t end = s.find(kCrlf, start);
    if (end == std::string_view::npos) end = s.size();
    if (end - start > kMaxLine) return true;
    start = end + 2;
  }
  return false;
}

// Header lines over 998 octets (which a peer may have sent us) are split
// into folded continuation lines, so the report stays valid.
std::string limit_lines(std::string_view s) {
  std::string out;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t end = s.find(kCrlf, start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view line = s.substr(start, end - start);
    bool first = true;
    while (line.size() > kMaxLine - (first ? 0 : 1)) {
      const std::size_t take = kMaxLine - (first ? 0 : 1);
      if (!first) out += ' ';
      out += line.substr(0, take);
      out += kCrlf;
      line.remove_prefix(take);
      first = false;
    }
    if (!first) out += ' ';
    out += line;
    out += kCrlf;
    start = end + 2;
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// "rfc822;a+2Bb@x" -> "rfc822; a+b@x". Without a type, rfc822 is assumed.
std::string original_recipient(std::string_view orcpt) {
  const std::size_t semi = orcpt.find(';');
  if (semi == std::string_view::npos) return "rfc822; " + xtext_decode(orcpt);
  return one_line(orcpt.substr(0, semi)) + "; " + xtext_decode(orcpt.substr(semi + 1));
}

// RFC 6533 §3: an address that is not ASCII is typed utf-8.
std::string typed_address(std::string_view address) {
  return (has_eight_bit(address) ? "utf-8; " : "rfc822; ") + one_line(address);
}

// The reply as received from an SMTP server starts with its three-digit
// code; anything else is our own error text.
bool is_smtp_reply(std::string_view reply) {
  return reply.size() >= 3 && is_digit(reply[0]) && is_digit(reply[1]) && is_digit(reply[2]) &&
         (reply.size() == 3 || reply[3] == ' ' || reply[3] == '-');
}

std::string remote_host(std::string_view where) {
  // The courier names the peer "host[ip]:port".
  const std::size_t bracket = where.find('[');
  return one_line(bracket == std::string_view::npos ? where : where.substr(0, bracket));
}

std::string duration_words(std::chrono::seconds d) {
  const auto s = d.count();
  if (s >= 2 * 86400) return std::to_string(s / 86400) + " days";
  if (s >= 2 * 3600) return std::to_string(s / 3600) + " hours";
  if (s >= 120) return std::to_string(s / 60) + " minutes";
  return std::to_string(s) + " seconds";
}

// What went wrong, for a person (RFC 3463 subject codes).
std::string explanation(const DsnRecipient& r, const std::string& status,
                        std::chrono::seconds queued_for) {
  if (r.expired) {
    return "delivery was tried " + std::to_string(r.attempts) +
           (r.attempts == 1 ? " time" : " times") + " over " + duration_words(queued_for) +
           " and kept failing temporarily, so it was given up.";
  }
  const std::string_view subject = std::string_view(status).substr(2);
  if (subject.starts_with("1.")) {
    return "the address was refused: the receiving system says it does not exist or is not "
           "valid.";
  }
  if (subject.starts_with("2.")) {
    return "the mailbox cannot take the message (it may be full or disabled).";
  }
  if (subject.starts_with("3.")) {
    return "the receiving mail system cannot accept the message (it may be too large).";
  }
  if (subject.starts_with("4.")) {
    return "the destination could not be reached: no mail server takes mail for that domain, "
           "or the way there is broken.";
  }
  if (subject.starts_with("7.")) {
    return "the receiving system refused the message for policy or security reasons.";
  }
  return "the receiving system refused the message permanently.";
}

std::string human_part(const DsnRequest& q, const std::vector<std::string>& statuses,
                       bool full_original) {
  std::string out = wrap("This is the mail delivery system at " + one_line(q.reporting_mta) + ".");
  out += kCrlf;
  out += wrap(std::string("Your message could not be delivered to ") +
              (q.recipients.size() == 1 ? "the following recipient" : "the following recipients") +
              ". This is a permanent error; it will not be tried again.");
  out += kCrlf;
  const auto queued_for = std::chrono::duration_cast<std::chrono::seconds>(q.now - q.arrival);
  for (std::size_t i = 0; i < q.recipients.size(); ++i) {
    const DsnRecipient& r = q.recipients[i];
    out += wrap("<" + one_line(r.address) + ">: " + explanation(r, statuses[i], queued_for), "",
                "    ");
    const std::string reply = one_line(r.reply);
    if (!reply.empty()) {
      const std::string who = r.remote_mta.empty()
                                  ? std::string("The error was")
                                  : "The server " + remote_host(r.remote_mta) + " said";
      out += wrap(who + ": " + reply, "    ", "    ");
    }
    out += kCrlf;
  }
  out += wrap(full_original ? "Your original message is attached below."
                            : "The headers of your original message are attached below.");
  return out;
}

std::string status_part(const DsnRequest& q, const std::vector<std::string>& statuses) {
  // RFC 3464 §2.2: per-message fields, then one block per recipient (§2.3),
  // blocks separated by blank lines.
  std::string out = header("Reporting-MTA", "dns; " + one_line(q.reporting_mta));
  if (!q.queue_id.empty()) out += header("X-Postern-Queue-ID", one_line(q.queue_id));
  if (!q.envid.empty()) out += header("Original-Envelope-Id", xtext_decode(q.envid));
  out += header("Arrival-Date", message::rfc5322_date(q.arrival));
  for (std::size_t i = 0; i < q.recipients.size(); ++i) {
    const DsnRecipient& r = q.recipients[i];
    out += kCrlf;
    out += header("Final-Recipient", typed_address(r.address));
    if (!r.orcpt.empty()) out += header("Original-Recipient", original_recipient(r.orcpt));
    out += header("Action", "failed");
    out += header("Status", statuses[i]);
    if (!r.remote_mta.empty()) out += header("Remote-MTA", "dns; " + remote_host(r.remote_mta));
    const std::string reply = one_line(r.reply);
    if (!reply.empty()) {
      // RFC 3464 §2.3.6: "smtp" for a reply from an SMTP server; our own
      // errors get a private diagnostic type.
      out += header("Diagnostic-Code", (is_smtp_reply(reply) ? "smtp; " : "X-Postern; ") + reply);
    }
    const auto last =
        r.last_attempt == std::chrono::system_clock::time_point{} ? q.now : r.last_attempt;
    out += header("Last-Attempt-Date", message::rfc5322_date(last));
  }
  return out;
}

std::string pick_boundary(const DsnRequest& q, std::string_view original) {
  // The boundary must not occur in any part (RFC 2046 §5.1.1); the
  // original is the only part we do not write ourselves.
  for (unsigned n = 0;; ++n) {
    std::string b = "=_postern_dsn_" + one_line(q.queue_id) + "_" + std::to_string(n);
    if (b.size() > 70) b.resize(70);
    if (original.find(b) == std::string_view::npos) return b;
  }
}

}  // namespace

std::string xtext_decode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      c = static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    }
    out += c;
  }
  return one_line(out);
}

std::string dsn_status(std::string_view reply, bool expired) {
  std::string_view rest = reply;
  if (is_smtp_reply(rest)) rest.remove_prefix(rest.size() > 3 ? 4 : 3);
  // RFC 3463 §2: class "." subject "." detail, subject 1-3 digits, detail
  // 1-3 digits.
  std::size_t i = 0;
  const bool cls = !rest.empty() && (rest[0] == '2' || rest[0] == '4' || rest[0] == '5') &&
                   rest.size() > 1 && rest[1] == '.';
  if (cls) {
    i = 2;
    std::size_t subject = 0;
    while (i < rest.size() && is_digit(rest[i]) && subject < 4) {
      ++i;
      ++subject;
    }
    std::size_t detail = 0;
    const bool dot = i < rest.size() && rest[i] == '.';
    if (dot) ++i;
    while (i < rest.size() && is_digit(rest[i]) && detail < 4) {
      ++i;
      ++detail;
    }
    const bool end = i == rest.size() || rest[i] == ' ';
    if (subject >= 1 && subject <= 3 && dot && detail >= 1 && detail <= 3 && end) {
      const char c = rest[0];
      // A bounce reports a failure: a 2.x.x code cannot describe it, and a
      // 4.x.x one only when the recipient expired.
      if (c == '5' || (c == '4' && expired)) return std::string(rest.substr(0, i));
    }
  }
  return expired ? "4.4.7" : "5.0.0";
}

Dsn build_dsn(const DsnRequest& q) {
  Dsn dsn;
  const std::string original = crlf(q.original);
  std::string_view headers = header_section(original);
  dsn.full_original =
      upper(q.ret) != "HDRS" && original.size() <= q.max_full_original && !has_long_line(original);
  const std::string returned = dsn.full_original ? original : limit_lines(headers);

  std::vector<std::string> statuses;
  statuses.reserve(q.recipients.size());
  for (const auto& r : q.recipients) statuses.push_back(dsn_status(r.reply, r.expired));

  const std::string human = human_part(q, statuses, dsn.full_original);
  const std::string status = status_part(q, statuses);
  const std::string boundary = pick_boundary(q, returned);
  const bool human_8bit = has_eight_bit(human);
  const bool status_8bit = has_eight_bit(status);
  const bool returned_8bit = has_eight_bit(returned);
  dsn.eight_bit = human_8bit || status_8bit || returned_8bit;

  std::string& out = dsn.data;
  out.reserve(returned.size() + human.size() + status.size() + 2048);
  out += header("From", "Mail Delivery System <MAILER-DAEMON@" + one_line(q.reporting_mta) + ">");
  out += header("To", q.sender.empty() ? std::string("undisclosed-recipients:;")
                                       : "<" + one_line(q.sender) + ">");
  out += header("Subject", "Undelivered Mail Returned to Sender");
  out += header("Date", message::rfc5322_date(q.now));
  out += header("Message-ID", one_line(q.message_id));
  // RFC 3834 §5: automatic responders must not answer this.
  out += header("Auto-Submitted", "auto-replied");
  out += header("MIME-Version", "1.0");
  out += header("Content-Type",
                "multipart/report; report-type=delivery-status; boundary=\"" + boundary + "\"");
  out += kCrlf;
  out += "This is a MIME-encapsulated message.";
  out += kCrlf;
  out += kCrlf;

  out += "--" + boundary;
  out += kCrlf;
  out += header("Content-Description", "Notification");
  out += header("Content-Type", "text/plain; charset=utf-8");
  out += header("Content-Transfer-Encoding", human_8bit ? "8bit" : "7bit");
  out += kCrlf;
  out += human;
  out += kCrlf;

  out += "--" + boundary;
  out += kCrlf;
  out += header("Content-Description", "Delivery report");
  // RFC 6533 §6: reports naming non-ASCII addresses are global.
  out += header("Content-Type",
                status_8bit ? "message/global-delivery-status" : "message/delivery-status");
  if (status_8bit) out += header("Content-Transfer-Encoding", "8bit");
  out += kCrlf;
  out += status;
  out += kCrlf;

  out += "--" + boundary;
  out += kCrlf;
  out += header("Content-Description",
                dsn.full_original ? "Undelivered Message" : "Undelivered Message Headers");
  out += header("Content-Type", dsn.full_original ? "message/rfc822" : "text/rfc822-headers");
  // RFC 2046 §5.2.1: message/rfc822 allows only 7bit, 8bit or binary.
  out += header("Content-Transfer-Encoding", returned_8bit ? "8bit" : "7bit");
  out += kCrlf;
  out += returned;
  out += kCrlf;
  out += "--" + boundary + "--";
  out += kCrlf;
  return dsn;
}

}  // namespace postern::delivery
