// Answers the questions of the pure mail-authentication code (SPF
// evaluation, `postern dns --check`, the inbound checks) with libunbound:
// any record type they use, as text. resolve() blocks until answered or the
// timeout passes (run it off any event loop); resolve_async() returns at
// once and calls back.
#pragma once

#include <chrono>
#include <functional>

#include "dns/resolver.hpp"
#include "dns/unbound_context.hpp"
#include "mailauth/dns_answer.hpp"

namespace postern::dns {

class QuestionResolver {
 public:
  // Throws std::runtime_error with an operator-facing message on bad options.
  explicit QuestionResolver(const ResolverOptions& options);

  mailauth::Answer resolve(const mailauth::Question& question);
  // `done` runs exactly once, on the resolver's dispatcher thread (keep it
  // short: post the answer to where it is needed), by `deadline` or by the
  // resolver's own timeout, whichever comes first; past it the answer is
  // temporary_failure.
  void resolve_async(const mailauth::Question& question,
                     std::chrono::steady_clock::time_point deadline,
                     std::function<void(mailauth::Answer)> done);

 private:
  std::chrono::milliseconds timeout_;
  UnboundContext context_;
};

}  // namespace postern::dns
