#include "mailauth/spf/evaluator.hpp"

#include <algorithm>
#include <cctype>

#include "mailauth/spf/ip_address.hpp"
#include "mailauth/spf/macro.hpp"
#include "mailauth/spf/record.hpp"

namespace postern::mailauth::spf {
namespace {

// A guard against a driver that keeps answering: no evaluation within the
// limits of §4.6.4 needs this many distinct lookups.
constexpr std::size_t kMaxQuestions = 400;

std::string lowercase(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string normalise_name(std::string name) {
  name = lowercase(std::move(name));
  while (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

// RFC 7208 §4.3: labels of 1 to 63 octets, at most 253 in all, and more
// than one label.
bool valid_domain(const std::string& name) {
  if (name.empty() || name.size() > 253 || name.find('.') == std::string::npos) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::size_t len = dot - start;
    if (len == 0 || len > 63) return false;
    start = dot + 1;
  }
  return true;
}

Result from_qualifier(Qualifier q) {
  switch (q) {
    case Qualifier::pass:
      return Result::pass;
    case Qualifier::fail:
      return Result::fail;
    case Qualifier::softfail:
      return Result::softfail;
    case Qualifier::neutral:
      return Result::neutral;
  }
  return Result::neutral;
}

struct Outcome {
  Result result = Result::none;
  std::string reason;
  std::string explanation;
};

// How one mechanism went; an error ends the evaluation (§4.6.2, §5).
struct Match {
  enum class Kind { no, yes, temperror, permerror };
  Kind kind = Kind::no;
  std::string reason;
};

// One replay of check_host() over the answers known so far. Every function
// that may need a lookup returns nullopt when the answer is missing, after
// setting `missing`; callers pass the nullopt up.
class Run {
 public:
  Run(const Request& request, const IpAddress& ip,
      const std::vector<std::pair<Question, Answer>>& answers)
      : ip_(ip), answers_(answers) {
    std::string sender = request.sender;
    if (sender.empty()) sender = "postmaster@" + request.helo;
    const auto at = sender.rfind('@');
    std::string local = at == std::string::npos ? "" : sender.substr(0, at);
    std::string domain = at == std::string::npos ? sender : sender.substr(at + 1);
    if (local.empty()) local = "postmaster";  // RFC 7208 §4.3
    base_.sender = local + "@" + domain;
    base_.local_part = local;
    base_.sender_domain = domain;
    base_.ip = ip;
    base_.helo = request.helo;
    base_.receiver = request.receiver;
    base_.now = request.now;
  }

  std::optional<Question> missing;
  int lookups = 0;
  int voids = 0;
  std::string top_record;

  std::optional<Outcome> check_host(const std::string& raw_domain, int depth) {
    const std::string domain = normalise_name(raw_domain);
    if (!valid_domain(domain)) {
      return Outcome{Result::none, "'" + raw_domain + "' is not a valid domain name", {}};
    }
    const Answer* txt = lookup(domain, RrType::txt);
    if (txt == nullptr) return std::nullopt;
    if (txt->status == AnswerStatus::temporary_failure) {
      return Outcome{Result::temperror, "the TXT lookup for " + domain + " failed", {}};
    }
    if (txt->status == AnswerStatus::nxdomain) {
      return Outcome{Result::none, domain + " does not exist", {}};
    }
    std::vector<std::string> spf;
    for (const auto& r : txt->records) {
      if (is_spf_record(r)) spf.push_back(r);
    }
    if (spf.empty()) return Outcome{Result::none, domain + " has no SPF record", {}};
    if (spf.size() > 1) {
      return Outcome{Result::permerror,
                     domain + " has " + std::to_string(spf.size()) +
                         " SPF records; there must be exactly one (RFC 7208 §4.5)",
                     {}};
    }
    if (depth == 0) top_record = spf[0];
    std::string error;
    const auto record = parse_record(spf[0], error);
    if (!record) {
      return Outcome{
          Result::permerror, "the SPF record of " + domain + " is invalid: " + error, {}};
    }
    MacroValues values = base_;
    values.domain = domain;

    for (const Mechanism& m : record->mechanisms) {
      const bool queries = m.kind == Mechanism::Kind::include || m.kind == Mechanism::Kind::a ||
                           m.kind == Mechanism::Kind::mx || m.kind == Mechanism::Kind::ptr ||
                           m.kind == Mechanism::Kind::exists;
      if (queries && ++lookups > kMaxDnsLookups) return over_limit(domain, m.text);
      auto match = evaluate(m, values, depth);
      if (!match) return std::nullopt;
      if (match->kind == Match::Kind::temperror)
        return Outcome{Result::temperror, match->reason, {}};
      if (match->kind == Match::Kind::permerror)
        return Outcome{Result::permerror, match->reason, {}};
      if (match->kind == Match::Kind::no) continue;
      Outcome out{from_qualifier(m.qualifier),
                  "'" + m.text + "' in the SPF record of " + domain + " matched",
                  {}};
      if (out.result == Result::fail && record->exp) {
        auto text = explanation(*record->exp, values);
        if (!text) return std::nullopt;
        out.explanation = *text;
      }
      return out;
    }

    if (record->redirect) {
      if (++lookups > kMaxDnsLookups) return over_limit(domain, "redirect=" + *record->redirect);
      auto target = target_name(*record->redirect, values);
      if (!target) return std::nullopt;
      if (target->empty()) {
        return Outcome{Result::permerror, "redirect=" + *record->redirect + " is not valid", {}};
      }
      auto inner = check_host(*target, depth + 1);
      if (!inner) return std::nullopt;
      if (inner->result == Result::none) {
        return Outcome{Result::permerror,
                       "redirect=" + *target + " names no SPF record: " + inner->reason,
                       {}};
      }
      return inner;
    }
    return Outcome{Result::neutral, "nothing in the SPF record of " + domain + " matched", {}};
  }

 private:
  const Answer* lookup(const std::string& name, RrType type) {
    const Question q{normalise_name(name), type};
    for (const auto& [question, answer] : answers_) {
      if (question == q) return &answer;
    }
    if (!missing) missing = q;
    return nullptr;
  }

  Outcome over_limit(const std::string& domain, const std::string& term) {
    return Outcome{Result::permerror,
                   "more than " + std::to_string(kMaxDnsLookups) +
                       " DNS lookups (RFC 7208 §4.6.4), the 11th at '" + term +
                       "' in the SPF record of " + domain,
                   {}};
  }

  // Counts an answer without records; past the limit the evaluation is a
  // permerror (RFC 7208 §4.6.4).
  std::optional<Match> void_check(const Answer& a, const std::string& what) {
    if (a.status != AnswerStatus::nxdomain && a.status != AnswerStatus::no_data) {
      return std::nullopt;
    }
    if (++voids > kMaxVoidLookups) {
      return Match{Match::Kind::permerror,
                   "more than " + std::to_string(kMaxVoidLookups) +
                       " DNS lookups returned nothing (RFC 7208 §4.6.4), the last for " + what};
    }
    return std::nullopt;
  }

  // The domain a mechanism or modifier names, macros expanded: an empty
  // string when it is not usable, nullopt when %{p} still needs lookups.
  std::optional<std::string> target_name(const std::string& spec, MacroValues& values) {
    if (spec.empty()) return values.domain;
    if (uses_p_macro(spec)) {
      auto p = validated_name(values.domain);
      if (!p) return std::nullopt;
      values.validated_name = *p;
    }
    std::string error;
    auto expanded = expand_macros(spec, values, MacroUse::domain_spec, error);
    if (!expanded) return std::string();
    return normalise_name(truncate_domain(*expanded));
  }

  // The client's names from PTR whose address records lead back to it
  // (RFC 7208 §5.5), at most 10 names looked at. Lookup errors leave a
  // name out.
  std::optional<std::vector<std::string>> validated_names() {
    const Answer* ptr = lookup(ip_.reverse_name(), RrType::ptr);
    if (ptr == nullptr) return std::nullopt;
    std::vector<std::string> out;
    if (ptr->status != AnswerStatus::ok) return out;
    const std::size_t n = std::min(ptr->records.size(), kMaxNamesPerMxOrPtr);
    for (std::size_t k = 0; k < n; ++k) {
      const std::string name = normalise_name(ptr->records[k]);
      const Answer* addresses = lookup(name, ip_.v6 ? RrType::aaaa : RrType::a);
      if (addresses == nullptr) return std::nullopt;
      for (const auto& text : addresses->records) {
        const auto address = IpAddress::parse(text);
        if (address && *address == ip_) {
          out.push_back(name);
          break;
        }
      }
    }
    return out;
  }

  static bool within(const std::string& name, const std::string& domain) {
    return name == domain || (name.size() > domain.size() && name.ends_with(domain) &&
                              name[name.size() - domain.size() - 1] == '.');
  }

  // %{p} (RFC 7208 §7.3): a validated name, preferably the domain itself or
  // one below it; "unknown" when there is none.
  std::optional<std::string> validated_name(const std::string& domain) {
    auto names = validated_names();
    if (!names) return std::nullopt;
    for (const auto& n : *names) {
      if (n == domain) return n;
    }
    for (const auto& n : *names) {
      if (within(n, domain)) return n;
    }
    return names->empty() ? std::string("unknown") : names->front();
  }

  std::optional<Match> address_match(const std::string& host, int cidr4, int cidr6,
                                     const std::string& term, bool count_void) {
    const Answer* a = lookup(host, ip_.v6 ? RrType::aaaa : RrType::a);
    if (a == nullptr) return std::nullopt;
    if (a->status == AnswerStatus::temporary_failure) {
      return Match{Match::Kind::temperror,
                   "'" + term + "': the address lookup for " + host + " failed"};
    }
    if (count_void) {
      if (auto over = void_check(*a, host)) return over;
    }
    for (const auto& text : a->records) {
      const auto address = IpAddress::parse(text);
      if (address && ip_.in_network(*address, ip_.v6 ? cidr6 : cidr4))
        return Match{Match::Kind::yes, {}};
    }
    return Match{Match::Kind::no, {}};
  }

  std::optional<Match> evaluate(const Mechanism& m, MacroValues& values, int depth) {
    using Kind = Mechanism::Kind;
    if (m.kind == Kind::all) return Match{Match::Kind::yes, {}};
    if (m.kind == Kind::ip4 || m.kind == Kind::ip6) {
      const int prefix = m.network.v6 ? m.cidr6 : m.cidr4;
      return Match{ip_.in_network(m.network, prefix) ? Match::Kind::yes : Match::Kind::no, {}};
    }
    auto target = target_name(m.domain_spec, values);
    if (!target) return std::nullopt;
    if (target->empty() || !valid_domain(*target)) {
      // A name that macro expansion made unusable matches nothing.
      return Match{Match::Kind::no, {}};
    }
    switch (m.kind) {
      case Kind::include: {
        auto inner = check_host(*target, depth + 1);
        if (!inner) return std::nullopt;
        switch (inner->result) {
          case Result::pass:
            return Match{Match::Kind::yes, {}};
          case Result::fail:
          case Result::softfail:
          case Result::neutral:
            return Match{Match::Kind::no, {}};
          case Result::temperror:
            return Match{Match::Kind::temperror, "'" + m.text + "': " + inner->reason};
          case Result::permerror:
            return Match{Match::Kind::permerror, "'" + m.text + "': " + inner->reason};
          case Result::none:
            return Match{Match::Kind::permerror,
                         "'" + m.text + "' names no SPF record: " + inner->reason};
        }
        return Match{Match::Kind::no, {}};
      }
      case Kind::a:
        return address_match(*target, m.cidr4, m.cidr6, m.text, true);
      case Kind::mx: {
        const Answer* mx = lookup(*target, RrType::mx);
        if (mx == nullptr) return std::nullopt;
        if (mx->status == AnswerStatus::temporary_failure) {
          return Match{Match::Kind::temperror,
                       "'" + m.text + "': the MX lookup for " + *target + " failed"};
        }
        if (auto over = void_check(*mx, *target)) return over;
        if (mx->records.size() > kMaxNamesPerMxOrPtr) {
          return Match{Match::Kind::permerror,
                       "'" + m.text + "': " + *target + " has " +
                           std::to_string(mx->records.size()) +
                           " MX records, more than the 10 SPF allows (RFC 7208 §4.6.4)"};
        }
        for (const auto& host : mx->records) {
          if (host.empty() || host == ".") continue;  // null MX (RFC 7505)
          auto match = address_match(host, m.cidr4, m.cidr6, m.text, false);
          if (!match) return std::nullopt;
          if (match->kind != Match::Kind::no) return match;
        }
        return Match{Match::Kind::no, {}};
      }
      case Kind::ptr: {
        const Answer* ptr = lookup(ip_.reverse_name(), RrType::ptr);
        if (ptr == nullptr) return std::nullopt;
        if (auto over = void_check(*ptr, ip_.reverse_name())) return over;
        auto names = validated_names();
        if (!names) return std::nullopt;
        for (const auto& n : *names) {
          if (within(n, *target)) return Match{Match::Kind::yes, {}};
        }
        return Match{Match::Kind::no, {}};
      }
      case Kind::exists: {
        // Always an A query, whatever the client's family (RFC 7208 §5.7).
        const Answer* a = lookup(*target, RrType::a);
        if (a == nullptr) return std::nullopt;
        if (a->status == AnswerStatus::temporary_failure) {
          return Match{Match::Kind::temperror,
                       "'" + m.text + "': the lookup for " + *target + " failed"};
        }
        if (auto over = void_check(*a, *target)) return over;
        return Match{a->records.empty() ? Match::Kind::no : Match::Kind::yes, {}};
      }
      default:
        return Match{Match::Kind::no, {}};
    }
  }

  // RFC 7208 §6.2: the exp= TXT record, macro-expanded; any problem means
  // no explanation, never a different result.
  std::optional<std::string> explanation(const std::string& spec, MacroValues values) {
    auto target = target_name(spec, values);
    if (!target) return std::nullopt;
    if (target->empty() || !valid_domain(*target)) return std::string();
    const Answer* txt = lookup(*target, RrType::txt);
    if (txt == nullptr) return std::nullopt;
    if (txt->status != AnswerStatus::ok || txt->records.size() != 1) return std::string();
    std::string error;
    auto text = expand_macros(txt->records[0], values, MacroUse::explanation, error);
    return text ? *text : std::string();
  }

  const IpAddress& ip_;
  const std::vector<std::pair<Question, Answer>>& answers_;
  MacroValues base_;
};

}  // namespace

const char* result_name(Result result) {
  switch (result) {
    case Result::none:
      return "none";
    case Result::neutral:
      return "neutral";
    case Result::pass:
      return "pass";
    case Result::fail:
      return "fail";
    case Result::softfail:
      return "softfail";
    case Result::temperror:
      return "temperror";
    case Result::permerror:
      return "permerror";
  }
  return "?";
}

Evaluator::Evaluator(Request request) : request_(std::move(request)) {}

std::optional<Question> Evaluator::next_question() {
  const auto ip = IpAddress::parse(request_.ip);
  if (!ip) {
    verdict_ =
        Verdict{Result::permerror, "'" + request_.ip + "' is not an IP address", {}, {}, 0, 0};
    return std::nullopt;
  }
  std::string domain = request_.domain;
  if (domain.empty()) {
    const std::string sender =
        request_.sender.empty() ? "postmaster@" + request_.helo : request_.sender;
    const auto at = sender.rfind('@');
    domain = at == std::string::npos ? sender : sender.substr(at + 1);
  }
  Run run(request_, *ip, answers_);
  const auto outcome = run.check_host(domain, 0);
  if (!outcome) {
    if (answers_.size() >= kMaxQuestions) {
      verdict_ =
          Verdict{Result::permerror, "too many DNS questions", {}, {}, run.lookups, run.voids};
      return std::nullopt;
    }
    return run.missing;
  }
  verdict_ = Verdict{outcome->result, outcome->reason, outcome->explanation,
                     run.top_record,  run.lookups,     run.voids};
  return std::nullopt;
}

void Evaluator::answer(const Question& question, Answer answer) {
  answers_.emplace_back(question, std::move(answer));
}

Verdict evaluate(const Request& request, const std::function<Answer(const Question&)>& resolve) {
  Evaluator e(request);
  while (auto q = e.next_question()) e.answer(*q, resolve(*q));
  return e.verdict();
}

}  // namespace postern::mailauth::spf
