// Delivery status notifications (bounces), RFC 3464: a multipart/report
// (RFC 6522) with a human explanation, the machine-readable
// message/delivery-status, and the original message or its headers.
// Pure: no clock, no files; the queue runner supplies every fact.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace postern::delivery {

struct DsnRecipient {
  std::string address;     // Final-Recipient
  std::string orcpt;       // ORCPT= as received ("rfc822;a+2Bb@x", RFC 3461 §4.2), or empty
  std::string reply;       // the last reply or local error, for Diagnostic-Code
  std::string remote_mta;  // host that gave the reply; empty for local or unknown
  bool expired = false;    // gave up after the queue lifetime (4.4.7)
  int attempts = 0;
  std::chrono::system_clock::time_point last_attempt{};
};

struct DsnRequest {
  std::string reporting_mta;  // our host name
  std::string sender;         // the original envelope sender: the bounce goes there
  std::string queue_id;       // the original message's queue id
  std::string envid;          // ENVID= as received (xtext, RFC 3461 §4.4), or empty
  std::string ret;            // RET= ("FULL", "HDRS"), or empty
  std::chrono::system_clock::time_point arrival{};
  std::chrono::system_clock::time_point now{};
  std::string message_id;  // the bounce's own Message-ID, with angle brackets
  std::vector<DsnRecipient> recipients;
  std::string_view original;  // the queued message data
  // Larger originals are returned as headers only (text/rfc822-headers).
  std::size_t max_full_original = std::size_t{1} << 20;
};

struct Dsn {
  std::string data;            // the complete message, CRLF line endings, lines <= 998
  bool eight_bit = false;      // holds octets > 127: needs BODY=8BITMIME (RFC 6152)
  bool full_original = false;  // part 3 is the whole message, not only its headers
};

Dsn build_dsn(const DsnRequest& request);

// The RFC 3463 status for a failed recipient: the enhanced code in `reply`
// ("550 5.1.1 ...", "5.2.0 ..."), else 4.4.7 when it expired, else 5.0.0.
std::string dsn_status(std::string_view reply, bool expired);

// RFC 3461 §4 xtext: "+HH" is the octet HH. Control characters are dropped
// so that a decoded value cannot break a header line.
std::string xtext_decode(std::string_view text);

}  // namespace postern::delivery
