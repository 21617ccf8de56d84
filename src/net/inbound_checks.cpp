#include "net/inbound_checks.hpp"

#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <memory>
#include <mutex>

#include "inbound/dnsbl.hpp"
#include "net/async_bridge.hpp"
#include "obs/log.hpp"

namespace postern::net {
namespace {

using Clock = std::chrono::steady_clock;

// Collects the answers of one batch of questions; the last one in hands
// them all over.
struct Join {
  std::mutex mu;
  std::vector<mailauth::Answer> answers;
  std::size_t remaining = 0;
  std::function<void(std::vector<mailauth::Answer>)> done;
};

}  // namespace

asio::awaitable<std::vector<mailauth::Answer>> ask_all(
    inbound::AsyncDns& dns, const std::vector<mailauth::Question>& questions,
    Clock::time_point deadline) {
  if (questions.empty()) co_return std::vector<mailauth::Answer>{};
  auto ex = co_await asio::this_coro::executor;
  co_return co_await await_callback<std::vector<mailauth::Answer>>(
      ex, [&dns, &questions, deadline](auto done) {
        auto join = std::make_shared<Join>();
        join->answers.resize(questions.size());
        join->remaining = questions.size();
        join->done = std::move(done);
        for (std::size_t i = 0; i < questions.size(); ++i) {
          dns.ask(questions[i], deadline, [join, i](mailauth::Answer a) {
            std::unique_lock lock(join->mu);
            join->answers[i] = std::move(a);
            if (--join->remaining != 0) return;
            auto answers = std::move(join->answers);
            lock.unlock();
            join->done(std::move(answers));
          });
        }
      });
}

asio::awaitable<std::optional<Reply>> check_dnsbl(InboundService& service,
                                                  const std::string& client_ip,
                                                  const std::vector<std::string>& lists,
                                                  const std::string& session_id) {
  std::vector<mailauth::Question> questions;
  std::vector<std::string> zones;
  for (const std::string& zone : lists) {
    const auto name = inbound::dnsbl_query_name(client_ip, zone);
    if (!name) continue;
    zones.push_back(zone);
    questions.push_back({*name, mailauth::RrType::a});
    questions.push_back({*name, mailauth::RrType::txt});
  }
  const auto started = Clock::now();
  const auto answers = co_await ask_all(service.dns(), questions, started + kDnsblTimeout);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  std::optional<Reply> refusal;
  for (std::size_t i = 0; i < zones.size(); ++i) {
    const auto r = inbound::judge_dnsbl(zones[i], answers[2 * i], &answers[2 * i + 1]);
    using Status = inbound::DnsblResult::Status;
    switch (r.status) {
      case Status::not_listed:
        break;
      case Status::listed:
        obs::warning("dnsbl",
                     "session={} client={} list={} result=listed code={} reason=\"{}\" "
                     "duration_ms={} action=\"refusing MAIL with 554 5.7.1\"",
                     session_id, client_ip, r.zone, r.code, obs::sanitize(r.reason), ms);
        if (!refusal) refusal = inbound::dnsbl_refusal(client_ip, r);
        break;
      case Status::failed:
      case Status::unusable:
        obs::warning("dnsbl",
                     "session={} client={} list={} result={} code={} duration_ms={} "
                     "warning=\"{}\"",
                     session_id, client_ip, r.zone,
                     r.status == Status::failed ? "failed" : "unusable",
                     r.code.empty() ? "-" : r.code, ms, r.note);
        break;
    }
  }
  co_return refusal;
}

namespace {

// Asks the verification's questions, batch after batch, until it needs no
// more; after `deadline` the rest count as temporary failures.
asio::awaitable<void> answer_questions(InboundService& service, inbound::Verification& v,
                                       Clock::time_point deadline) {
  for (;;) {
    std::vector<mailauth::Question> questions = v.questions();
    if (questions.empty()) co_return;
    if (Clock::now() >= deadline) {
      v.give_up();
      continue;
    }
    const auto answers = co_await ask_all(service.dns(), questions, deadline);
    for (std::size_t i = 0; i < questions.size(); ++i) v.answer(questions[i], answers[i]);
  }
}

}  // namespace

asio::awaitable<inbound::Outcome> verify_message(InboundService& service, inbound::Input& input,
                                                 bool enforce) {
  const auto deadline = Clock::now() + kVerifyTimeout;
  const std::size_t size = input.message.size();
  inbound::Verification v(std::move(input));
  co_await answer_questions(service, v, deadline);
  if (size <= kInlineVerifyBytes || v.signatures_found() == 0) {
    v.verify_signatures();
  } else {
    auto ex = co_await asio::this_coro::executor;
    asio::thread_pool& pool = service.pool();
    co_await await_callback<bool>(ex, [&pool, &v](auto done) {
      asio::post(pool, [&v, done = std::move(done)] {
        v.verify_signatures();
        done(true);
      });
    });
  }
  co_await answer_questions(service, v, deadline);
  co_return v.outcome(enforce);
}

}  // namespace postern::net
