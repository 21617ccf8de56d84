// DMARC (RFC 7489) as a sans-I/O evaluator (STYLE.md habit 16), shaped like
// the SPF one: it asks for one TXT lookup at a time and is fed the answers.
//
// Driving it:
//   dmarc::Evaluator e(request);
//   while (auto q = e.next_question()) e.answer(*q, resolve(*q));
//   e.verdict();
//
// Questions are TXT lookups of _dmarc.<author domain> and, when that holds
// no DMARC record, _dmarc.<organizational domain> (§6.6.3). With several
// author domains each is evaluated in turn (§6.6.1).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailauth/auth_results/checks.hpp"
#include "mailauth/dmarc/organizational_domain.hpp"
#include "mailauth/dmarc/record.hpp"
#include "mailauth/dns_answer.hpp"

namespace postern::mailauth::dmarc {

// RFC 7489 §11.2 (the dmarc method of RFC 8601).
enum class Result { none, pass, fail, temperror, permerror };
const char* result_name(Result result);  // "pass", "permerror", ...

struct Request {
  // Every mailbox domain of every From: field, top first, as
  // author_domains() gives them ("" for a From: field without a domain), in
  // A-label form. Several different ones: §6.6.1, see Verdict.
  std::vector<std::string> author_domains;
  SpfCheck spf;                 // counts only when pass, and aligned
  std::vector<DkimCheck> dkim;  // each pass whose d= aligns counts
  // 0..99, drawn at random by the edge: a failing message is subject to the
  // policy when sample < pct= (§6.6.4). Fixed in tests.
  int sample = 0;
};

struct Verdict {
  Result result = Result::none;
  // What the domain asks for this message, after pct=: none for anything
  // but fail (temperror: the edge decides, 451 when enforcing).
  Policy disposition = Policy::none;
  // The published policy that applied (p=, or sp= for a subdomain of the
  // organizational domain whose record was found at the latter), before
  // pct=; none when no record applied.
  Policy policy = Policy::none;
  bool sampled_out = false;   // pct= spared this message: disposition is one step milder
  std::string from_domain;    // header.from: the author domain that decided
  std::string record_domain;  // where the record was found (_dmarc. prefix omitted); "" none
  std::string reason;         // plain words: what decided, or what is wrong
  bool spf_aligned = false;   // SPF passed for an aligned domain
  std::string dkim_domain;    // d= of the first passing aligned signature; "" none
  // No From: field, a From: address without a domain, or too many author
  // domains: RFC 7489 §6.6.1 leaves such messages to the receiver
  // (RFC 5322 forbids most of them). The result is permerror, never pass.
  bool from_unusable = false;
  std::optional<Record> record;
};

// Every mailbox domain of every From: field of the message (its header
// section is enough), top first, lowercased; "" for a field with no
// mailbox domain at all. No From: field: empty.
std::vector<std::string> author_domains(std::string_view message);

// Alignment (§3.1): strict = the same name; relaxed = the same
// organizational domain. Case-insensitive.
bool aligned(std::string_view a, std::string_view b, Alignment mode, const PublicSuffixList& psl);

class Evaluator {
 public:
  explicit Evaluator(Request request, const PublicSuffixList& psl = PublicSuffixList::system());

  // The next lookup needed (always TXT), or nullopt when verdict() is final.
  std::optional<Question> next_question();
  void answer(const Question& question, Answer answer);
  const Verdict& verdict() const { return verdict_; }

 private:
  void run();

  Request request_;
  const PublicSuffixList* psl_;
  std::vector<std::pair<Question, Answer>> answers_;
  std::optional<Question> pending_;
  Verdict verdict_;
};

// Runs an evaluator to the end with a synchronous resolver (tests, CLI).
Verdict evaluate(const Request& request, const std::function<Answer(const Question&)>& resolve,
                 const PublicSuffixList& psl = PublicSuffixList::system());

}  // namespace postern::mailauth::dmarc
