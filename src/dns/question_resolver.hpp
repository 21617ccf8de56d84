// Answers the questions of the pure mail-authentication code (SPF
// evaluation, `postern dns --check`) with libunbound: any record type they
// use, as text. Calls block until answered or the timeout passes; run them
// off any event loop.
#pragma once

#include <chrono>

#include "dns/resolver.hpp"
#include "dns/unbound_context.hpp"
#include "mailauth/dns_answer.hpp"

namespace postern::dns {

class QuestionResolver {
 public:
  // Throws std::runtime_error with an operator-facing message on bad options.
  explicit QuestionResolver(const ResolverOptions& options);

  mailauth::Answer resolve(const mailauth::Question& question);

 private:
  std::chrono::milliseconds timeout_;
  UnboundContext context_;
};

}  // namespace postern::dns
