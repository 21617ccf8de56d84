// One libunbound context shared by the delivery threads, with a deadline on
// every lookup.
//
// Lookups go through ub_resolve_async: libunbound's own worker thread
// (ub_ctx_async(ctx, 1)) does the network work, a dispatcher thread of ours
// waits on ub_fd() and runs ub_process(), which hands each answer to the
// thread that asked. A caller whose deadline passes cancels its query
// (ub_cancel) and moves on. Blocking ub_resolve() would also be safe from
// several threads ("Multiple threads can use the same context", unbound.h),
// but it cannot be interrupted, and unbound retries a silent server for
// about 17 s. Lowering unbound's retry timers instead (infra-cache-max-rtt)
// makes it mark the server as down for every name after one silent answer,
// so the deadline is kept here.
#pragma once

#include <unbound.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "dns/resolver.hpp"

namespace postern::dns {

class UnboundContext {
 public:
  struct Question {
    std::string name;
    int type = 0;  // RR type (RFC 1035 §3.2.2), class is always IN
  };

  struct ResultFree {
    void operator()(ub_result* r) const { ub_resolve_free(r); }
  };
  using Result = std::unique_ptr<ub_result, ResultFree>;

  struct Answer {
    Result result;           // set when libunbound answered
    int error = 0;           // libunbound error code (ub_strerror), 0 = none
    bool timed_out = false;  // the deadline passed first
  };

  // Throws std::runtime_error with an operator-facing message.
  explicit UnboundContext(const ResolverOptions& options);
  ~UnboundContext();
  UnboundContext(const UnboundContext&) = delete;
  UnboundContext& operator=(const UnboundContext&) = delete;

  // Asks every question at once and waits until all are answered or the
  // deadline passes. Answers are in the order of the questions.
  std::vector<Answer> resolve(const std::vector<Question>& questions,
                              std::chrono::steady_clock::time_point deadline);

  // Asks one question without waiting: `done` runs exactly once, on the
  // dispatcher thread (or on the calling thread when the question cannot be
  // asked at all), with the answer or with timed_out once `deadline` has
  // passed. It must be quick and must not call back into this context; the
  // inbound checks post it to their event loop (SPEC §1.8: a session
  // waiting for DNS holds no thread).
  using Callback = std::function<void(Answer)>;
  void resolve_async(const Question& question, std::chrono::steady_clock::time_point deadline,
                     Callback done);

 private:
  struct Pending {
    UnboundContext* owner = nullptr;
    int async_id = 0;
    bool done = false;
    bool abandoned = false;  // the asker gave up but the cancel came too late
    int error = 0;
    Result result;
    // Set for resolve_async: the answer goes here instead of to a waiter,
    // and the dispatcher cancels the query at its deadline.
    Callback callback;
    bool registered = false;  // resolve_async has recorded async_id
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  };

  static void on_answer(void* arg, int error, ub_result* result);
  void complete(Pending* p, int error, ub_result* result);
  void dispatch();
  // Cancels the asynchronous queries whose deadline has passed and says how
  // long the dispatcher may sleep before the next one (poll's timeout, -1
  // for none). Runs on the dispatcher thread.
  int expire_async(std::vector<std::pair<Callback, Answer>>& due);
  void fail(const std::string& what, int error);

  ub_ctx* ctx_ = nullptr;
  int wake_fd_ = -1;  // eventfd that wakes the dispatcher (stop, or a new deadline)
  bool stopping_ = false;
  std::mutex mutex_;
  std::condition_variable answered_;
  std::unordered_map<Pending*, std::unique_ptr<Pending>> pending_;
  bool broken_ = false;  // libunbound's pipe failed: every lookup fails fast
  // When the dispatcher wakes next for a deadline (max: no deadline pending).
  std::chrono::steady_clock::time_point next_wake_ = std::chrono::steady_clock::time_point::max();
  std::thread dispatcher_;
};

}  // namespace postern::dns
