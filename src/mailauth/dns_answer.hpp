// The DNS vocabulary of the pure mail-authentication evaluators (SPF, and
// later DMARC and DKIM key lookups): a question they ask and the answer a
// driver feeds back. No I/O here: the same evaluator runs under unit tests
// with a table of answers and in the server or the CLI on libunbound
// (STYLE.md habit 16).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace postern::mailauth {

enum class RrType { a, aaaa, mx, txt, ptr };

const char* rr_type_name(RrType type);  // "A", "AAAA", "MX", "TXT", "PTR"

struct Question {
  std::string name;  // lowercased, without the trailing dot
  RrType type = RrType::a;
  bool operator==(const Question&) const = default;
};

enum class AnswerStatus {
  ok,                 // records present
  nxdomain,           // RCODE 3: the name does not exist
  no_data,            // the name exists without a record of that type
  temporary_failure,  // SERVFAIL, timeout, network
};

struct Answer {
  AnswerStatus status = AnswerStatus::temporary_failure;
  // As text: A/AAAA textual addresses; MX exchange host names (lowercased,
  // no trailing dot); PTR names (the same); TXT one entry per record, its
  // character-strings concatenated with nothing between them (RFC 7208
  // §3.3).
  std::vector<std::string> records;
  // Seconds the answer may be kept (the records' TTL, or the negative TTL
  // of RFC 2308); 0: not at all. The evaluators ignore it; caches use it.
  std::uint32_t ttl = 0;
};

}  // namespace postern::mailauth
