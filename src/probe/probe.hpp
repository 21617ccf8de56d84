// `postern probe` and `postern send` (SPEC §3.1): walk the path to an SMTP
// server step by step, stop at the first broken step and say in plain words
// what is most likely wrong. The walk reuses the delivery code: the
// resolver, BlockingStream for TCP and TLS, and the sans-I/O ClientSession
// conventions for reading replies.
//
// This header is the contract between the walker (probe_walk.cpp), the port
// scan, the presets and the two commands. Everything here is plain data so
// the text and JSON reports can be unit-tested without a network.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::probe {

// How to reach the port. `automatic` reads the first bytes: a plaintext
// banner means plain or STARTTLS, silence or TLS bytes means implicit TLS.
enum class TlsChoice { automatic, starttls, implicit, none };

// What the walk found the port to speak.
enum class TlsFound { unknown, plaintext, starttls, implicit };

// The steps, in walk order. The names are part of the JSON schema
// (docs/troubleshooting.md): dns, connect, banner, ehlo, tls, certificate,
// auth, mail, rcpt, data.
enum class Stage { dns, connect, banner, ehlo, tls, certificate, auth, mail, rcpt, data };

// Every diagnosis the walk can end with. The names (snake_case, as written
// here) are part of the JSON schema; the exit status is per stage group, see
// exit_status().
enum class Diagnosis {
  ok,
  // dns
  name_not_found,  // NXDOMAIN or no address record
  dns_failure,     // SERVFAIL, timeout, no resolver
  // connect
  connect_timeout,  // SYN unanswered: egress filter or firewall
  connect_refused,  // RST: nothing listens
  network_unreachable,
  // banner / TLS mode
  banner_timeout,        // TCP up, nothing said, no TLS either
  expects_implicit_tls,  // plaintext tried, TLS bytes or silence came back
  expects_plaintext,     // implicit TLS tried, a plaintext banner came back
  server_busy,           // 421/4xx banner or greeting refused
  banner_rejected,       // 554 banner
  // ehlo / tls
  ehlo_rejected,
  starttls_not_offered,  // --tls starttls but no STARTTLS in EHLO
  tls_handshake_failed,  // protocol versions, ciphers, reset mid-handshake
  // certificate
  certificate_expired,
  certificate_not_yet_valid,
  certificate_self_signed,
  certificate_name_mismatch,  // names it covers are in CertificateInfo::names
  certificate_untrusted,      // chain incomplete or unknown issuer
  // auth
  auth_not_offered_before_tls,  // expected on a submission port: upgrade first
  auth_not_offered,             // no AUTH even over TLS (a relay port?)
  auth_mechanism_unsupported,   // none of PLAIN/LOGIN offered
  auth_failed,                  // 535: credentials (or mechanism)
  auth_temporary,               // 454 and other 4xx
  // mail / rcpt / data
  sender_rejected,      // 553/550 on MAIL: sender identity
  relay_denied,         // 554 5.7.1 / 550 5.7.1 on RCPT
  recipient_refused,    // 550 5.1.1 and other 5xx on RCPT
  temporary_rejection,  // 4xx on MAIL/RCPT/DATA
  message_rejected,     // 5xx after DATA
  protocol_error,       // anything the server said that makes no sense
};

struct StepResult {
  Stage stage = Stage::dns;
  bool ok = false;
  std::chrono::milliseconds elapsed{0};
  std::string detail;  // one line: "93.184.216.34, 2606:2800::1", "220 mx ESMTP"
};

struct CertificateInfo {
  bool present = false;
  std::string subject;
  std::string issuer;
  std::vector<std::string> names;  // DNS SANs (and CN when there is no SAN)
  std::string not_before;          // ISO 8601 UTC
  std::string not_after;
  bool expired = false;
  bool not_yet_valid = false;
  bool self_signed = false;
  bool name_matches = false;
  bool trusted = false;      // chain verified against the system or --ca-file
  std::string verify_error;  // OpenSSL's text when not trusted
};

struct ProbeResult {
  std::string host;  // as asked (a preset's host after expansion)
  std::uint16_t port = 0;
  std::vector<std::string> addresses;  // what DNS gave (or the literal)
  std::string address;                 // the one connected to
  std::vector<StepResult> steps;       // the steps walked, last one failed unless ok
  Diagnosis diagnosis = Diagnosis::ok;
  Stage failed_stage = Stage::dns;  // meaningful when diagnosis != ok
  std::string explanation;          // plain words: what is wrong
  std::string advice;               // the first thing to try, with exact options
  TlsFound tls_found = TlsFound::unknown;
  std::string tls_version;  // "TLSv1.3"
  std::string tls_cipher;
  CertificateInfo certificate;
  std::string banner;                        // first line of the 220
  std::vector<std::string> auth_mechanisms;  // as offered when it mattered (after TLS)
  std::vector<std::string> auth_mechanisms_before_tls;
  bool starttls_offered = false;
  std::optional<std::size_t> size_limit;
  std::string server_reply;  // the reply that ended the walk ("554 5.7.1 relay denied")
  std::string queue_id;      // send only: taken from the 250 after DATA when present
  bool ok() const { return diagnosis == Diagnosis::ok; }
};

// One line of the -v transcript. Secrets are masked before a line is
// handed out (AUTH arguments and continuation lines): callers print as is.
struct TranscriptLine {
  enum class Direction { sent, received, info } direction = Direction::info;
  std::string text;  // without CRLF
};
using TranscriptSink = std::function<void(const TranscriptLine&)>;

struct ProbeOptions {
  std::string host;  // name or IP literal
  std::uint16_t port = 587;
  TlsChoice tls = TlsChoice::automatic;
  std::optional<std::string> user;
  std::optional<std::string> password;       // never logged, never printed
  std::optional<std::string> mail_from;      // --from: try MAIL FROM
  std::vector<std::string> rcpt_to;          // --to: try RCPT TO (no DATA unless `message`)
  std::chrono::milliseconds timeout{10000};  // per step
  bool ipv4_only = false;
  bool ipv6_only = false;
  std::string ca_file;    // extra trust anchors (a private CA)
  std::string helo_name;  // empty: this machine's hostname
  std::string resolver;   // "ip:port"; empty: the system's (tests set it)
  // send: after RCPT, DATA with this message (CRLF or LF lines, not
  // dot-stuffed), then QUIT. Empty for probe.
  std::optional<std::string> message;
  TranscriptSink transcript;  // -v; may be empty
};

// Runs the whole walk. Never throws for network trouble: every failure ends
// up in the result's diagnosis.
ProbeResult run_probe(const ProbeOptions& options);

// Exit status of `postern probe` / `postern send` (documented in
// docs/troubleshooting.md): 0 ok, 2 usage (CLI11), 3 dns, 4 connect,
// 5 banner or TLS mode, 6 tls or certificate, 7 auth, 8 mail/rcpt policy,
// 9 data rejected, 10 protocol error or temporary rejection.
int exit_status(Diagnosis diagnosis);

// Stable names used in JSON and logs.
std::string_view to_string(Stage stage);
std::string_view to_string(Diagnosis diagnosis);
std::string_view to_string(TlsFound found);

}  // namespace postern::probe
