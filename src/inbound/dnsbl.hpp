// DNS blocklists (RFC 5782) for the relay listeners (SPEC §1.8, `[inbound]
// dnsbl`): the name to query for a client address, and what the answers
// mean. Pure: the edge (net/inbound_checks) asks the questions and feeds
// the answers; this decides, and words the refusal.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/reply.hpp"
#include "mailauth/dns_answer.hpp"

namespace postern::inbound {

// The name under `zone` that lists `client_ip`: IPv4 octets in reverse
// order (RFC 5782 §2.1: 192.0.2.99 -> 99.2.0.192.zone), IPv6 as 32 nibbles
// in reverse order (§2.4). nullopt when the text is not an IP address.
std::optional<std::string> dnsbl_query_name(std::string_view client_ip, std::string_view zone);

struct DnsblResult {
  enum class Status {
    not_listed,  // NXDOMAIN, or no address record
    listed,      // an A record in 127.0.0.0/8 (§2.1)
    failed,      // the lookup failed or timed out: mail is not blocked (SPEC §1.8)
    unusable,    // answers outside 127/8, or a list's "query refused" code
  };
  Status status = Status::not_listed;
  std::string zone;
  std::string code;    // the A record that listed it ("127.0.0.2"), or the odd one
  std::string reason;  // the list's TXT text, made safe for a reply line; may be empty
  std::string note;    // plain words for the log when status is failed or unusable
};

// Judges a list's answers for one client: `a` for the A question,
// `txt` (may be null or failed: the reason is optional) for the TXT one.
DnsblResult judge_dnsbl(std::string_view zone, const mailauth::Answer& a,
                        const mailauth::Answer* txt);

// A list's TXT text as it may appear in a reply and a log line: printable
// ASCII only (anything else becomes '?', runs of white space one space),
// at most kMaxReasonLength characters (cut ones end in "..."). The text
// comes from whoever runs the list's DNS: it must not be able to add reply
// lines or log fields.
inline constexpr std::size_t kMaxReasonLength = 200;
std::string safe_reason(std::string_view txt);

// 554 5.7.1 (SPEC §1.8), naming the list and, when it gave one, its reason:
// "Service unavailable; client [192.0.2.99] blocked using list.example: ..."
Reply dnsbl_refusal(std::string_view client_ip, const DnsblResult& listed);

}  // namespace postern::inbound
