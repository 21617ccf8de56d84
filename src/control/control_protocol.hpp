// The control protocol spoken on <data_dir>/control.sock between the running
// server and `postern queue` / `postern sendmail`. It is deliberately tiny:
//
//   request   = verb [SP argument] LF            one line, at most kMaxRequestLine
//   "PING" | "FLUSH" | "DELETE <id>" | "HOLD <id>" | "RELEASE <id>"
//   | "SUBMIT <envelope octets> <message octets>" LF envelope-block message
//   envelope-block = "FROM <sender>" LF *( "TO <recipient>" LF )
//   response  = ("OK" [SP text] | "ERR" SP kind SP text) LF     one line
//
// One request per connection; the server answers once and closes. Every
// length is declared before the bytes it covers and bounded, so neither side
// ever holds more than it agreed to (the message bound is the server's
// limits.max_message_size). No JSON, no escaping: an address or queue id can
// never contain a space, CR, LF or NUL, and the message travels as counted
// octets.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::control {

// The socket's name inside data_dir.
inline constexpr std::string_view kSocketName = "control.sock";

// A request line is short: a verb and a queue id or two numbers.
inline constexpr std::size_t kMaxRequestLine = 512;
// A response line carries one human sentence.
inline constexpr std::size_t kMaxResponseLine = 2048;
// One envelope line: "FROM "/"TO " and a path of at most 256 octets
// (RFC 5321 §4.5.3.1.3), with room to spare for UTF-8 addresses.
inline constexpr std::size_t kMaxEnvelopeLine = 1024;
// The whole envelope block: a sender and up to 1000 recipients (more than
// any limits.max_recipients a server would set; the server applies its own
// limit after decoding).
inline constexpr std::size_t kMaxEnvelopeBlock = 1001 * kMaxEnvelopeLine;

// STATUS answers one line: the delivery scheduler per destination
// (delivery::format_destinations), for `postern queue list`.
enum class Verb { ping, flush, status, remove, hold, release, submit };

// What went wrong, as a fixed word on the wire, so that `postern sendmail`
// can pick its exit status (sysexits.h) without parsing prose.
enum class ErrorKind {
  usage,     // malformed request, bad address syntax        -> EX_USAGE 64
  data,      // message refused: too large, malformed       -> EX_DATAERR 65
  nouser,    // unknown local recipient                     -> EX_NOUSER 67
  notfound,  // no such queue id                            -> 1 (`postern queue`)
  tempfail,  // storage failure, server stopping, timeouts  -> EX_TEMPFAIL 75
  software,  // anything else on the server's side          -> EX_SOFTWARE 70
};

// The wire word: "PING", "FLUSH", "STATUS", "DELETE", "HOLD", "RELEASE", "SUBMIT".
std::string_view to_string(Verb verb);

struct Request {
  Verb verb = Verb::ping;
  std::string queue_id;           // DELETE, HOLD, RELEASE
  std::size_t envelope_size = 0;  // SUBMIT
  std::size_t message_size = 0;   // SUBMIT
};

// The request line, LF included.
std::string format_request(const Request& request);

struct ParsedRequestLine {
  std::optional<Request> request;
  std::string error;                  // why there is none
  ErrorKind kind = ErrorKind::usage;  // data when the declared message is too large
};

// Parses one request line (without its LF). `max_message` bounds the
// declared message size of SUBMIT: a larger one is refused before any of it
// is read.
ParsedRequestLine parse_request_line(std::string_view line, std::size_t max_message);

// True for what can be a queue id on the wire: 1 to 64 ASCII letters and
// digits (the spool decides whether such a message exists).
bool is_wire_queue_id(std::string_view id);

// The envelope of a SUBMIT. An empty sender is the null sender <>.
struct SubmitEnvelope {
  std::string sender;
  std::vector<std::string> recipients;
};

// True when `address` can travel in an envelope line: at most
// kMaxEnvelopeLine - 5 octets, no space, no control byte (CR, LF, NUL...).
// Whether it is a valid mailbox is the server's business.
bool is_wire_address(std::string_view address);

// The envelope block. The caller checks addresses with is_wire_address.
std::string encode_submit_envelope(const SubmitEnvelope& envelope);

struct DecodedEnvelope {
  std::optional<SubmitEnvelope> envelope;
  std::string error;
};

// Decodes a complete envelope block: exactly one FROM line first, then TO
// lines, each LF-terminated; at least one recipient.
DecodedEnvelope decode_submit_envelope(std::string_view block);

std::string_view to_string(ErrorKind kind);
std::optional<ErrorKind> error_kind_from_string(std::string_view word);

struct Response {
  bool ok = true;
  ErrorKind kind = ErrorKind::software;  // when !ok
  std::string text;                      // free text, one line
};

Response ok_response(std::string text);
Response error_response(ErrorKind kind, std::string text);

// The response line, LF included. Control bytes in the text become '?'
// and the line is cut to kMaxResponseLine, so it is always one line.
std::string format_response(const Response& response);

// Parses a response line (without its LF); nullopt when it is not one.
std::optional<Response> parse_response_line(std::string_view line);

}  // namespace postern::control
