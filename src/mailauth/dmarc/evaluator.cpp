#include "mailauth/dmarc/evaluator.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/text.hpp"
#include "mailauth/author_domain.hpp"
#include "mailauth/dkim/message_view.hpp"

namespace postern::mailauth::dmarc {
namespace {

// More author domains than any real message has (RFC 5322 allows a list,
// but a From: with many authors is rare): beyond this the message is not
// evaluated domain by domain, so a crafted From: cannot make us send
// hundreds of DNS queries. The verdict is then permerror, never pass.
constexpr std::size_t kMaxAuthorDomains = 10;

// §6.6.4: a message that pct= leaves out gets the next policy less strict.
Policy milder(Policy p) {
  switch (p) {
    case Policy::reject:
      return Policy::quarantine;
    case Policy::quarantine:
    case Policy::none:
      return Policy::none;
  }
  return Policy::none;
}

int strictness(Policy p) {
  return static_cast<int>(p);  // none < quarantine < reject
}

// What the TXT answer at one _dmarc name holds (§6.6.3 steps 1, 2, 4, 5).
struct Lookup {
  enum class Kind { missing, temperror, none, one, several };
  Kind kind = Kind::missing;
  std::string record;
};

// One replay over the answers received so far, one author domain at a
// time.
class Run {
 public:
  Run(const Request& request, const PublicSuffixList& psl,
      const std::vector<std::pair<Question, Answer>>& answers)
      : request_(request), psl_(psl), answers_(answers) {}

  std::optional<Question> missing;

  // nullopt when a lookup is still missing.
  std::optional<Verdict> evaluate_domain(const std::string& domain) {
    Verdict v;
    v.from_domain = domain;
    // The A-label form §6.6.1 asks for (core/text is_dns_name): an address
    // literal or a U-label the edge did not convert is no domain to look up.
    if (!is_dns_name(domain)) {
      v.result = Result::permerror;
      v.reason = fmt::format("the From: domain \"{}\" is not a domain name DMARC can look up",
                             domain.substr(0, 80));
      return v;
    }
    // §6.6.3 step 1: the author domain itself.
    const Lookup own = lookup(domain);
    if (own.kind == Lookup::Kind::missing) return std::nullopt;
    std::string record_domain = domain;
    Lookup found = own;
    if (own.kind == Lookup::Kind::none) {
      // Step 3: nothing there, so the organizational domain (if different).
      const std::string org = psl_.organizational_domain(domain);
      if (org != domain) {
        found = lookup(org);
        if (found.kind == Lookup::Kind::missing) return std::nullopt;
        record_domain = org;
      }
    }
    switch (found.kind) {
      case Lookup::Kind::missing:
        return std::nullopt;
      case Lookup::Kind::temperror:
        v.result = Result::temperror;
        v.reason = fmt::format("the DMARC record at _dmarc.{} could not be looked up (DNS error)",
                               record_domain);
        return v;
      case Lookup::Kind::none:
        v.result = Result::none;
        v.reason =
            record_domain == domain
                ? fmt::format("no DMARC record at _dmarc.{}", domain)
                : fmt::format("no DMARC record at _dmarc.{} or _dmarc.{}", domain, record_domain);
        return v;
      case Lookup::Kind::several:
        // Step 5: several records mean no policy at all.
        v.result = Result::none;
        v.record_domain = record_domain;
        v.reason = fmt::format(
            "several DMARC records at _dmarc.{}: none applies (RFC 7489 §6.6.3); publish one",
            record_domain);
        return v;
      case Lookup::Kind::one:
        break;
    }
    v.record_domain = record_domain;
    std::string error;
    std::optional<Record> record = parse_record(found.record, error);
    if (!record) {
      v.result = Result::permerror;
      v.reason = fmt::format("the DMARC record at _dmarc.{} is invalid: {}", record_domain, error);
      return v;
    }
    check(*record, domain, v);
    v.record = std::move(record);
    return v;
  }

 private:
  Lookup lookup(const std::string& domain) {
    const Question q{"_dmarc." + domain, RrType::txt};
    for (const auto& [question, answer] : answers_) {
      if (question != q) continue;
      Lookup l;
      switch (answer.status) {
        case AnswerStatus::temporary_failure:
          l.kind = Lookup::Kind::temperror;
          return l;
        case AnswerStatus::nxdomain:
        case AnswerStatus::no_data:
          l.kind = Lookup::Kind::none;
          return l;
        case AnswerStatus::ok:
          break;
      }
      int count = 0;
      for (const std::string& txt : answer.records) {
        if (!is_dmarc_record(txt)) continue;  // steps 2 and 4: discarded
        if (++count == 1) l.record = txt;
      }
      l.kind = count == 0   ? Lookup::Kind::none
               : count == 1 ? Lookup::Kind::one
                            : Lookup::Kind::several;
      return l;
    }
    if (!missing) missing = q;
    return {};
  }

  // §3.1 alignment and §6.6.2 (pass when either identifier aligns and
  // passed), then the policy with pct=.
  void check(const Record& record, const std::string& domain, Verdict& v) {
    const bool subdomain = v.record_domain != domain;
    v.policy = subdomain ? record.subdomain_policy : record.policy;

    const SpfCheck& spf = request_.spf;
    const std::string spf_domain = spf.domain();
    const bool spf_aligned =
        !spf_domain.empty() && aligned(spf_domain, domain, record.spf_alignment, psl_);
    v.spf_aligned = spf.result == spf::Result::pass && spf_aligned;
    bool dkim_temperror = false;
    for (const DkimCheck& d : request_.dkim) {
      if (d.domain.empty() || !aligned(d.domain, domain, record.dkim_alignment, psl_)) continue;
      if (d.result == DkimResult::pass && v.dkim_domain.empty()) v.dkim_domain = d.domain;
      if (d.result == DkimResult::temperror) dkim_temperror = true;
    }
    if (v.spf_aligned || !v.dkim_domain.empty()) {
      v.result = Result::pass;
      v.reason = v.spf_aligned && !v.dkim_domain.empty() ? "SPF and DKIM both pass aligned"
                 : v.spf_aligned ? fmt::format("SPF passes for {}, aligned", spf_domain)
                                 : fmt::format("DKIM passes for d={}, aligned", v.dkim_domain);
      return;
    }
    if ((spf.result == spf::Result::temperror && spf_aligned) || dkim_temperror) {
      // Not a verdict on the message: an aligned identifier could not be
      // checked because of DNS trouble, and might have passed. A 550 for
      // a DNS blip at the sender would be wrong; the edge answers 451
      // when enforcing.
      v.result = Result::temperror;
      v.reason = "no aligned pass yet, and an aligned SPF or DKIM check had a DNS error";
      return;
    }
    v.result = Result::fail;
    v.disposition = v.policy;
    if (request_.sample >= record.percent && v.policy != Policy::none) {
      v.sampled_out = true;
      v.disposition = milder(v.policy);
    }
    v.reason =
        fmt::format("SPF {}{}, {}: nothing passes aligned with {}", spf::result_name(spf.result),
                    spf_domain.empty() ? "" : " for " + spf_domain,
                    request_.dkim.empty() ? "no DKIM signature" : "no aligned DKIM pass", domain);
    if (record.spf_alignment == Alignment::strict || record.dkim_alignment == Alignment::strict) {
      v.reason += fmt::format(" (adkim={} aspf={})", alignment_name(record.dkim_alignment),
                              alignment_name(record.spf_alignment));
    }
    if (subdomain) v.reason += fmt::format("; sp= of {} applies", v.record_domain);
    if (v.sampled_out) {
      v.reason += fmt::format("; pct={} spared this message", record.percent);
    }
  }

  const Request& request_;
  const PublicSuffixList& psl_;
  const std::vector<std::pair<Question, Answer>>& answers_;
};

// The order in which results decide among several author domains: a
// failure first (§6.6.1, the strictest policy among those that fail), then
// the errors, then none; pass only when every domain passed.
int severity(Result r) {
  switch (r) {
    case Result::fail:
      return 4;
    case Result::temperror:
      return 3;
    case Result::permerror:
      return 2;
    case Result::none:
      return 1;
    case Result::pass:
      return 0;
  }
  return 2;
}

}  // namespace

const char* result_name(Result result) {
  switch (result) {
    case Result::none:
      return "none";
    case Result::pass:
      return "pass";
    case Result::fail:
      return "fail";
    case Result::temperror:
      return "temperror";
    case Result::permerror:
      return "permerror";
  }
  return "permerror";
}

std::vector<std::string> author_domains(std::string_view message) {
  std::vector<std::string> out;
  for (const dkim::HeaderField& f : dkim::parse_message(message).fields) {
    if (!dkim::iequals(f.name, "From")) continue;
    std::vector<std::string> domains = mailbox_domains(f.value());
    if (domains.empty()) domains.emplace_back();  // a From: field with no mailbox at all
    for (std::string& d : domains) out.push_back(std::move(d));
  }
  return out;
}

bool aligned(std::string_view a, std::string_view b, Alignment mode, const PublicSuffixList& psl) {
  std::string x = ascii_lower(a), y = ascii_lower(b);
  while (!x.empty() && x.back() == '.') x.pop_back();
  while (!y.empty() && y.back() == '.') y.pop_back();
  if (x.empty() || y.empty()) return false;
  if (x == y) return true;
  if (mode == Alignment::strict) return false;
  return psl.organizational_domain(x) == psl.organizational_domain(y);
}

Evaluator::Evaluator(Request request, const PublicSuffixList& psl)
    : request_(std::move(request)), psl_(&psl) {
  run();
}

std::optional<Question> Evaluator::next_question() {
  return pending_;
}

void Evaluator::answer(const Question& question, Answer answer) {
  // An answer to a question never asked, or asked already, changes nothing.
  if (!pending_ || question != *pending_) return;
  answers_.emplace_back(question, std::move(answer));
  run();
}

void Evaluator::run() {
  pending_.reset();
  std::vector<std::string> domains;
  bool domainless = false;
  for (const std::string& d : request_.author_domains) {
    std::string n = ascii_lower(d);
    while (!n.empty() && n.back() == '.') n.pop_back();
    if (n.empty()) {
      domainless = true;
      continue;
    }
    if (std::find(domains.begin(), domains.end(), n) == domains.end()) domains.push_back(n);
  }

  // §6.6.1: DMARC needs an author domain. No From: field, or one without a
  // domain, is outside what the RFC defines; it is never a pass.
  if (domains.empty()) {
    verdict_ = Verdict{};
    verdict_.result = Result::permerror;
    verdict_.from_unusable = true;
    verdict_.reason = request_.author_domains.empty()
                          ? "the message has no From: field (RFC 5322 §3.6 requires one)"
                          : "the From: field has no address with a domain";
    return;
  }
  if (domains.size() > kMaxAuthorDomains) {
    verdict_ = Verdict{};
    verdict_.result = Result::permerror;
    verdict_.from_unusable = true;
    verdict_.from_domain = domains.front();
    verdict_.reason = fmt::format("the From: field names {} domains; more than {} are not checked",
                                  domains.size(), kMaxAuthorDomains);
    return;
  }

  Run r(request_, *psl_, answers_);
  std::vector<Verdict> each;
  for (const std::string& d : domains) {
    std::optional<Verdict> v = r.evaluate_domain(d);
    if (!v) {
      pending_ = r.missing;
      return;
    }
    each.push_back(std::move(*v));
  }

  // §6.6.1: with several author domains each is checked, and among those
  // that fail the strictest policy applies. Otherwise the worst result
  // stands, so that one passing domain never vouches for another.
  std::size_t pick = 0;
  for (std::size_t i = 1; i < each.size(); ++i) {
    const Verdict& a = each[i];
    const Verdict& b = each[pick];
    if (severity(a.result) > severity(b.result) ||
        (a.result == Result::fail && b.result == Result::fail &&
         std::make_pair(strictness(a.disposition), strictness(a.policy)) >
             std::make_pair(strictness(b.disposition), strictness(b.policy)))) {
      pick = i;
    }
  }
  verdict_ = std::move(each[pick]);
  if (domainless && severity(verdict_.result) < severity(Result::permerror)) {
    verdict_.result = Result::permerror;
    verdict_.from_unusable = true;
    verdict_.disposition = Policy::none;
    verdict_.reason = "a From: address has no domain (" + verdict_.reason + ")";
  }
  if (domains.size() > 1) {
    verdict_.reason +=
        fmt::format("; the From: field names {} domains ({}), each checked (RFC 7489 §6.6.1)",
                    domains.size(), join(domains, ", "));
  }
}

Verdict evaluate(const Request& request, const std::function<Answer(const Question&)>& resolve,
                 const PublicSuffixList& psl) {
  Evaluator e(request, psl);
  // Each answer either finishes a domain or moves to its next question:
  // at most two per author domain, so this loop is bounded.
  for (std::size_t i = 0; i <= 2 * kMaxAuthorDomains; ++i) {
    const std::optional<Question> q = e.next_question();
    if (!q) break;
    e.answer(*q, resolve(*q));
  }
  return e.verdict();
}

}  // namespace postern::mailauth::dmarc
