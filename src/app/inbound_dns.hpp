// The inbound checks' DNS (inbound::AsyncDns) on the server's libunbound
// resolver: the one [delivery] resolver names, or the system's (SPEC §1.8).
#pragma once

#include "dns/question_resolver.hpp"
#include "inbound/async_dns.hpp"

namespace postern::app {

class UnboundAsyncDns final : public inbound::AsyncDns {
 public:
  // Throws std::runtime_error with an operator-facing message on bad options.
  explicit UnboundAsyncDns(const dns::ResolverOptions& options) : resolver_(options) {}
  void ask(const mailauth::Question& question, std::chrono::steady_clock::time_point deadline,
           std::function<void(mailauth::Answer)> done) override {
    resolver_.resolve_async(question, deadline, std::move(done));
  }

 private:
  dns::QuestionResolver resolver_;
};

}  // namespace postern::app
