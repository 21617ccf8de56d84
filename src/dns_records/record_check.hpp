// `postern dns --check`: compares what DNS answers with what the domain
// needs and names each mistake in plain words (SPEC §1.7). Pure: every DNS
// answer comes through a Lookup (a table of answers in the unit tests,
// libunbound in the CLI), and SPF is judged by evaluating it with the SPF
// evaluator, never by looking for patterns in the text.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dns_records/required_records.hpp"
#include "dns_records/server_identity.hpp"
#include "mailauth/dns_answer.hpp"

namespace postern::dns_records {

enum class Status {
  ok,
  warning,  // works, but should change (DMARC p=none)
  fail,     // a mistake: mail will be refused, spam-foldered or unauthenticated
};
const char* status_name(Status status);  // "ok", "warning", "fail"

struct Finding {
  Kind kind = Kind::mx;
  Status status = Status::ok;
  std::string code;     // stable, for --json and tests: "spf_missing", "dkim_key_mismatch"...
  std::string message;  // what DNS says, in plain words
  std::string fix;      // what to do; empty when nothing is needed
  // SPF findings: what check_host() gives for this server's (first)
  // address, e.g. "pass", "softfail", "permerror"; empty when not evaluated.
  std::string spf_result;
};

using Lookup = std::function<mailauth::Answer(const mailauth::Question&)>;

// Documentation addresses nobody sends mail from (RFC 5737 TEST-NET-3,
// RFC 3849): if SPF passes for one, it passes for everyone.
inline constexpr const char* kNobodysAddress = "203.0.113.254";
inline constexpr const char* kNobodysIpv6Address = "2001:db8::254";

std::vector<Finding> check_records(const ServerIdentity& server, const Lookup& lookup);

}  // namespace postern::dns_records
