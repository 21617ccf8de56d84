// The SPF check_host() function of RFC 7208 as a sans-I/O evaluator
// (STYLE.md habit 16): it asks for one DNS lookup at a time and is fed the
// answers; it never waits on anything. The lookup limits of §4.6.4 (10
// terms that query DNS, 2 void lookups, 10 names per mx or ptr) are counters
// in here, not timeouts elsewhere.
//
// Driving it:
//   Evaluator e(request);
//   while (auto q = e.next_question()) e.answer(*q, resolve(*q));
//   e.verdict();
//
// Each next_question() replays the evaluation from the start over the
// answers received so far, until it reaches a question not answered yet.
// Evaluation is cheap next to a DNS round trip, and replaying keeps the
// recursive shape of include/redirect readable while staying resumable.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mailauth/dns_answer.hpp"

namespace postern::mailauth::spf {

// RFC 7208 §2.6.
enum class Result { none, neutral, pass, fail, softfail, temperror, permerror };
const char* result_name(Result result);  // "pass", "permerror", ...

// RFC 7208 §4.6.4.
inline constexpr int kMaxDnsLookups = 10;
inline constexpr int kMaxVoidLookups = 2;
inline constexpr std::size_t kMaxNamesPerMxOrPtr = 10;

struct Request {
  std::string ip;      // the SMTP client's address, IPv4 or IPv6 text
  std::string sender;  // MAIL FROM; empty: postmaster@<helo> (RFC 7208 §2.4)
  std::string helo;
  std::string domain;                // check_host's <domain>; empty: the sender's domain
  std::string receiver = "unknown";  // %{r}
  std::int64_t now = 0;              // %{t}, seconds since the epoch
};

struct Verdict {
  Result result = Result::none;
  std::string reason;       // in plain words: what decided, or what is wrong
  std::string explanation;  // the exp= text, on fail only
  std::string record;       // the SPF record of the checked domain, if any
  int dns_lookups = 0;      // terms counted against kMaxDnsLookups
  int void_lookups = 0;
};

class Evaluator {
 public:
  explicit Evaluator(Request request);

  // The next lookup the evaluation needs, or nullopt when verdict() is final.
  std::optional<Question> next_question();
  void answer(const Question& question, Answer answer);
  const Verdict& verdict() const { return verdict_; }

 private:
  Request request_;
  std::vector<std::pair<Question, Answer>> answers_;
  Verdict verdict_;
};

// Runs an evaluator to the end with a synchronous resolver (tests, CLI).
Verdict evaluate(const Request& request, const std::function<Answer(const Question&)>& resolve);

}  // namespace postern::mailauth::spf
