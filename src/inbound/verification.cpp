#include "inbound/verification.hpp"

#include <fmt/format.h>

#include "mailauth/auth_results/header.hpp"

namespace postern::inbound {
namespace {

namespace ma = postern::mailauth;

std::pair<std::string, int> key_of(const ma::Question& q) {
  return {q.name, static_cast<int>(q.type)};
}

ma::dkim::KeyAnswer key_answer(const ma::Answer* a) {
  ma::dkim::KeyAnswer k;
  if (a == nullptr) {
    k.status = ma::dkim::KeyAnswer::Status::temporary_failure;
    return k;
  }
  switch (a->status) {
    case ma::AnswerStatus::ok:
      k.status = ma::dkim::KeyAnswer::Status::found;
      k.records = a->records;
      break;
    case ma::AnswerStatus::nxdomain:
    case ma::AnswerStatus::no_data:
      k.status = ma::dkim::KeyAnswer::Status::no_record;
      break;
    case ma::AnswerStatus::temporary_failure:
      k.status = ma::dkim::KeyAnswer::Status::temporary_failure;
      break;
  }
  return k;
}

// The key of a signature that parsed well enough to name one.
std::optional<ma::Question> key_question(const ma::dkim::Signature& s) {
  if (s.domain.empty() || s.selector.empty()) return std::nullopt;
  return ma::Question{s.key_query_name(), ma::RrType::txt};
}

}  // namespace

const char* action_name(Action action) {
  switch (action) {
    case Action::accept:
      return "accept";
    case Action::junk:
      return "junk";
    case Action::reject:
      return "reject";
    case Action::defer:
      return "defer";
  }
  return "accept";
}

Verification::Verification(Input input, const ma::dmarc::PublicSuffixList& psl)
    : in_(std::move(input)), psl_(&psl) {
  if (in_.checks.spf) {
    ma::spf::Request r;
    r.ip = in_.client_ip;
    r.sender = in_.mail_from;  // empty: postmaster@<helo> (RFC 7208 §2.4)
    r.helo = in_.helo;
    r.receiver = in_.authserv_id;
    r.now = in_.now;
    spf_.emplace(std::move(r));
  }
  if (in_.checks.dkim || in_.checks.dmarc) {
    // DMARC counts DKIM passes; without DKIM checks it sees none.
    auto all = ma::dkim::find_signatures(in_.message);
    signatures_found_ = all.size();
    if (in_.checks.dkim) {
      if (all.size() > kMaxSignatures) all.resize(kMaxSignatures);
      signatures_ = std::move(all);
    }
  }
  if (in_.checks.dmarc) {
    author_domains_ = ma::dmarc::author_domains(in_.message);
    if (in_.to_a_label) {
      for (auto& d : author_domains_) {
        if (d.empty()) continue;
        if (auto a = in_.to_a_label(d)) d = std::move(*a);
      }
    }
    ma::dmarc::Request probe;
    probe.author_domains = author_domains_;
    dmarc_probe_.emplace(std::move(probe), *psl_);
  }
}

const ma::Answer* Verification::cached(const ma::Question& q) const {
  const auto it = answers_.find(key_of(q));
  return it == answers_.end() ? nullptr : &it->second;
}

void Verification::want(const ma::Question& q, std::vector<ma::Question>& out) {
  if (asked_.insert(key_of(q)).second) out.push_back(q);
}

void Verification::drive_spf(std::vector<ma::Question>& out) {
  // Bounded by the evaluator's own question guard; each pass feeds one
  // cached answer or stops at an open question.
  while (auto q = spf_->next_question()) {
    const ma::Answer* a = cached(*q);
    if (a == nullptr) return want(*q, out);
    spf_->answer(*q, *a);
  }
}

void Verification::drive_dmarc(ma::dmarc::Evaluator& e, std::vector<ma::Question>& out) {
  while (auto q = e.next_question()) {
    const ma::Answer* a = cached(*q);
    if (a == nullptr) return want(*q, out);
    e.answer(*q, *a);
  }
}

std::vector<ma::Question> Verification::questions() {
  std::vector<ma::Question> out;
  if (++rounds_ > kMaxRounds) {
    give_up();
    return out;
  }
  if (spf_) drive_spf(out);
  if (!verified_) {
    for (const auto& s : signatures_) {
      if (!s.error.empty()) continue;
      if (auto q = key_question(s); q && !cached(*q)) want(*q, out);
    }
    if (dmarc_probe_) drive_dmarc(*dmarc_probe_, out);
  } else if (dmarc_) {
    drive_dmarc(*dmarc_, out);
  }
  // Every question returned is new; the caller answers the whole batch
  // before asking for the next one.
  return out;
}

void Verification::answer(const ma::Question& question, ma::Answer answer) {
  answers_[key_of(question)] = std::move(answer);
}

void Verification::give_up() {
  for (const auto& k : asked_) {
    if (answers_.count(k) == 0) answers_[k] = ma::Answer{};  // temporary_failure
  }
  // Anything the evaluators still ask is answered the same way.
  auto fail_all = [this](auto& e) {
    while (auto q = e.next_question()) {
      const ma::Answer* a = cached(*q);
      e.answer(*q, a ? *a : ma::Answer{});
    }
  };
  if (spf_) fail_all(*spf_);
  if (dmarc_probe_) fail_all(*dmarc_probe_);
  if (dmarc_) fail_all(*dmarc_);
}

ma::SpfCheck Verification::spf_check() const {
  ma::SpfCheck c;
  c.mail_from = in_.mail_from;
  c.helo = in_.helo;
  if (spf_) {
    c.result = spf_->verdict().result;
    c.reason = spf_->verdict().reason;
  }
  return c;
}

void Verification::verify_signatures() {
  if (verified_) return;
  verified_ = true;
  dkim_.clear();
  for (const auto& s : signatures_) {
    ma::dkim::Verdict v;
    if (!s.error.empty()) {
      v.outcome = ma::dkim::Outcome::permerror;
      v.reason = s.error;
    } else {
      const auto q = key_question(s);
      v = ma::dkim::verify(in_.message, s, key_answer(q ? cached(*q) : nullptr), in_.now);
    }
    dkim_.push_back(ma::dkim_check(s, v));
  }
  if (in_.checks.dmarc) {
    ma::dmarc::Request r;
    r.author_domains = author_domains_;
    if (spf_) r.spf = spf_check();
    r.dkim = dkim_;
    r.sample = in_.sample;
    dmarc_.emplace(std::move(r), *psl_);
  }
  dmarc_probe_.reset();
}

Outcome Verification::outcome(bool enforce) const {
  Outcome o;
  ma::AuthResults ar;
  ar.authserv_id = in_.authserv_id;
  if (spf_) ar.spf = spf_check();
  ar.dkim_checked = in_.checks.dkim;
  ar.dkim = dkim_;
  if (dmarc_) ar.dmarc = dmarc_->verdict();
  o.field = ma::authentication_results_field(ar);

  std::string dkim_log;
  for (const auto& d : dkim_) {
    dkim_log += fmt::format("{}{}:{}", dkim_log.empty() ? "" : ",", ma::dkim_result_name(d.result),
                            d.domain.empty() ? "-" : d.domain);
  }
  if (in_.checks.dkim && dkim_.empty()) dkim_log = "none";
  if (signatures_found_ > signatures_.size() && in_.checks.dkim) {
    dkim_log += fmt::format(" dkim_unchecked={}", signatures_found_ - signatures_.size());
  }
  o.log = fmt::format("spf={} dkim={}", spf_ ? ma::spf::result_name(spf_->verdict().result) : "off",
                      in_.checks.dkim ? dkim_log : std::string("off"));
  if (!dmarc_) {
    o.log += " dmarc=off";
    return o;
  }
  const ma::dmarc::Verdict& v = dmarc_->verdict();
  o.log +=
      fmt::format(" dmarc={} from_domain={} policy={} disposition={}",
                  ma::dmarc::result_name(v.result), v.from_domain.empty() ? "-" : v.from_domain,
                  ma::dmarc::policy_name(v.policy), ma::dmarc::policy_name(v.disposition));
  if (!enforce) return o;
  using ma::dmarc::Policy;
  using ma::dmarc::Result;
  if (v.result == Result::temperror) {
    // SPEC §1.8: DNS trouble is a temporary error when enforcing; a sender
    // that retries later meets a working resolver.
    o.action = Action::defer;
    o.reply =
        Reply(451, "4.7.0",
              fmt::format("Temporary DNS failure while checking DMARC for {}; try again "
                          "later",
                          v.from_domain.empty() ? std::string("the From: domain") : v.from_domain));
  } else if (v.result == Result::fail && v.disposition == Policy::reject) {
    o.action = Action::reject;
    o.reply = Reply(
        550, "5.7.1",
        fmt::format("Message refused: {} publishes DMARC p=reject and this message "
                    "fails it (neither SPF nor DKIM passes aligned with From: {})",
                    v.record_domain.empty() ? v.from_domain : v.record_domain, v.from_domain));
  } else if (v.result == Result::fail && v.disposition == Policy::quarantine) {
    o.action = Action::junk;
  }
  return o;
}

}  // namespace postern::inbound
