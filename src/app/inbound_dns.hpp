// The inbound checks' DNS (inbound::AsyncDns) on the server's libunbound
// resolver: the one [delivery] resolver names, or the system's (SPEC §1.8).
//
// In front of it, a small cache of answers for their TTL (at most
// kMaxTtl): libunbound caches too, but every question to it crosses two
// threads and two pipes, and every message from the same sender asks the
// same three or four names (SPF, DKIM key, DMARC). A cached answer is
// given at once, on the asking thread. Temporary failures and answers with
// TTL 0 are never kept.
#pragma once

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "dns/question_resolver.hpp"
#include "inbound/async_dns.hpp"

namespace postern::app {

class UnboundAsyncDns final : public inbound::AsyncDns {
 public:
  static constexpr std::uint32_t kMaxTtl = 300;
  static constexpr std::size_t kMaxEntries = 20000;

  // Throws std::runtime_error with an operator-facing message on bad options.
  explicit UnboundAsyncDns(const dns::ResolverOptions& options) : resolver_(options) {}
  UnboundAsyncDns(const UnboundAsyncDns&) = delete;
  UnboundAsyncDns& operator=(const UnboundAsyncDns&) = delete;

  void ask(const mailauth::Question& question, std::chrono::steady_clock::time_point deadline,
           std::function<void(mailauth::Answer)> done) override {
    std::string key = question.name;
    key += '/';
    key += mailauth::rr_type_name(question.type);
    const auto now = Clock::now();
    {
      std::lock_guard lock(mu_);
      const auto it = cache_.find(key);
      if (it != cache_.end() && it->second.first > now) {
        mailauth::Answer a = it->second.second;
        a.ttl = static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::seconds>(it->second.first - now).count());
        done(std::move(a));
        return;
      }
    }
    resolver_.resolve_async(
        question, deadline,
        [this, key = std::move(key), done = std::move(done)](mailauth::Answer a) {
          if (a.ttl > 0 && a.status != mailauth::AnswerStatus::temporary_failure) {
            const auto expiry = Clock::now() + std::chrono::seconds(std::min(a.ttl, kMaxTtl));
            std::lock_guard lock(mu_);
            if (cache_.size() >= kMaxEntries) cache_.clear();  // rare: start over
            cache_.insert_or_assign(key, std::make_pair(expiry, a));
          }
          done(std::move(a));
        });
  }

 private:
  using Clock = std::chrono::steady_clock;
  std::mutex mu_;
  std::unordered_map<std::string, std::pair<Clock::time_point, mailauth::Answer>> cache_;
  // Last: destroyed first, so that no answer arrives while the cache goes.
  dns::QuestionResolver resolver_;
};

}  // namespace postern::app
