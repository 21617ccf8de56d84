#include "dns/question_resolver.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <span>

#include "dns/mx_records.hpp"
#include "dns/rdata.hpp"

namespace postern::dns {
namespace {

// RFC 1035 §3.2.2, RFC 3596 §2.1.
int wire_type(mailauth::RrType type) {
  switch (type) {
    case mailauth::RrType::a:
      return 1;
    case mailauth::RrType::aaaa:
      return 28;
    case mailauth::RrType::mx:
      return 15;
    case mailauth::RrType::txt:
      return 16;
    case mailauth::RrType::ptr:
      return 12;
  }
  return 0;
}

std::optional<std::string> decode(mailauth::RrType type, std::span<const unsigned char> rdata) {
  switch (type) {
    case mailauth::RrType::a:
    case mailauth::RrType::aaaa: {
      const bool v4 = type == mailauth::RrType::a;
      if (rdata.size() != (v4 ? 4u : 16u)) return std::nullopt;
      char text[INET6_ADDRSTRLEN] = {};
      if (::inet_ntop(v4 ? AF_INET : AF_INET6, rdata.data(), text, sizeof text) == nullptr) {
        return std::nullopt;
      }
      return std::string(text);
    }
    case mailauth::RrType::mx: {
      auto mx = parse_mx_rdata(rdata);
      if (!mx) return std::nullopt;
      return mx->host;
    }
    case mailauth::RrType::txt:
      return parse_txt_rdata(rdata);
    case mailauth::RrType::ptr:
      return parse_name_rdata(rdata);
  }
  return std::nullopt;
}

mailauth::Answer to_answer(mailauth::RrType type, const UnboundContext::Answer& a) {
  mailauth::Answer out;
  if (a.timed_out || a.error != 0 || !a.result) return out;  // temporary_failure
  const ub_result& r = *a.result;
  out.ttl = r.ttl > 0 ? static_cast<std::uint32_t>(r.ttl) : 0;
  if (r.nxdomain) {
    out.status = mailauth::AnswerStatus::nxdomain;
    return out;
  }
  if (r.rcode != 0 || r.bogus) {
    out.ttl = 0;
    return out;
  }
  if (!r.havedata) {
    out.status = mailauth::AnswerStatus::no_data;
    return out;
  }
  for (int i = 0; r.data[i] != nullptr; ++i) {
    const std::span<const unsigned char> rdata(reinterpret_cast<const unsigned char*>(r.data[i]),
                                               static_cast<std::size_t>(r.len[i]));
    if (auto text = decode(type, rdata)) out.records.push_back(std::move(*text));
  }
  // Records that all failed to decode say nothing usable: a server problem.
  out.status =
      out.records.empty() ? mailauth::AnswerStatus::temporary_failure : mailauth::AnswerStatus::ok;
  if (out.records.empty()) out.ttl = 0;
  return out;
}

}  // namespace

QuestionResolver::QuestionResolver(const ResolverOptions& options)
    : timeout_(options.timeout), context_(options) {}

mailauth::Answer QuestionResolver::resolve(const mailauth::Question& question) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  auto answers = context_.resolve({{question.name, wire_type(question.type)}}, deadline);
  return to_answer(question.type, answers[0]);
}

void QuestionResolver::resolve_async(const mailauth::Question& question,
                                     std::chrono::steady_clock::time_point deadline,
                                     std::function<void(mailauth::Answer)> done) {
  // Never later than this resolver's own bound for one lookup.
  deadline = std::min(deadline, std::chrono::steady_clock::now() + timeout_);
  const mailauth::RrType type = question.type;
  context_.resolve_async(
      {question.name, wire_type(type)}, deadline,
      [type, done = std::move(done)](UnboundContext::Answer a) { done(to_answer(type, a)); });
}

}  // namespace postern::dns
