// DMARC's parsers of outside input (mailauth/dmarc): policy records
// published by anyone (RFC 7489 §6.3) and the From: fields of a message
// (§6.6.1). A record either parses or names its error, within its bounds;
// the evaluator, fed the record (or the message's From: domains) over
// answers of every kind, ends in a bounded number of questions and never
// passes without an aligned pass.
#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "mailauth/dmarc/evaluator.hpp"
#include "mailauth/dmarc/record.hpp"

using namespace postern;
namespace mailauth = postern::mailauth;
namespace dmarc = postern::mailauth::dmarc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::uint8_t mode = in.byte();
  const std::uint8_t status = in.byte();
  const int sample = in.byte() % 100;
  const std::string_view text = in.rest();

  std::string error;
  const auto record = dmarc::parse_record(text, error);
  FUZZ_CHECK(record.has_value() || !error.empty());
  if (record) {
    FUZZ_CHECK(dmarc::is_dmarc_record(text));
    FUZZ_CHECK(record->percent >= 0 && record->percent <= 100);
    FUZZ_CHECK(!record->policy_defaulted || record->policy == dmarc::Policy::none);
  }

  dmarc::Request r;
  const bool from_message = (mode & 1) != 0;
  r.author_domains =
      from_message ? dmarc::author_domains(text) : std::vector<std::string>{"mail.example.com"};
  r.spf.result = (mode & 2) ? mailauth::spf::Result::pass : mailauth::spf::Result::temperror;
  r.spf.mail_from = (mode & 4) ? "bounce@example.com" : "bounce@example.net";
  mailauth::DkimCheck d;
  d.result = (mode & 8) ? mailauth::DkimResult::pass : mailauth::DkimResult::policy;
  // d= is the signer's text: alignment must cope with any bytes in it.
  d.domain = (mode & 32)   ? std::string(text.substr(0, 80))
             : (mode & 16) ? "example.com"
                           : "example.org";
  r.dkim.push_back(d);
  r.sample = sample;

  // Every question gets the same kind of answer; an ok answer carries the
  // fuzzed text as the TXT record (and a second copy when asked to).
  int questions = 0;
  const dmarc::Verdict v = dmarc::evaluate(r, [&](const mailauth::Question& q) {
    ++questions;
    FUZZ_CHECK(q.type == mailauth::RrType::txt);
    FUZZ_CHECK(q.name.rfind("_dmarc.", 0) == 0);
    mailauth::Answer a;
    switch (status % 5) {
      case 0:
        a.status = mailauth::AnswerStatus::ok;
        a.records = {std::string(from_message ? "v=DMARC1; p=reject" : text)};
        if (status & 0x80) a.records.push_back(a.records.front());
        break;
      case 1:
        a.status = mailauth::AnswerStatus::nxdomain;
        break;
      case 2:
        a.status = mailauth::AnswerStatus::no_data;
        break;
      default:
        a.status = mailauth::AnswerStatus::temporary_failure;
        break;
    }
    return a;
  });
  FUZZ_CHECK(questions <= 20);
  if (v.result == dmarc::Result::pass) {
    FUZZ_CHECK(v.spf_aligned || !v.dkim_domain.empty());
    FUZZ_CHECK(!v.from_unusable);
  }
  if (v.result != dmarc::Result::fail) FUZZ_CHECK(v.disposition == dmarc::Policy::none);
  return 0;
}
