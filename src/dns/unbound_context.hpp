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

 private:
  struct Pending {
    UnboundContext* owner = nullptr;
    int async_id = 0;
    bool done = false;
    bool abandoned = false;  // the asker gave up but the cancel came too late
    int error = 0;
    Result result;
  };

  static void on_answer(void* arg, int error, ub_result* result);
  void complete(Pending* p, int error, ub_result* result);
  void dispatch();
  void fail(const std::string& what, int error);

  ub_ctx* ctx_ = nullptr;
  int wake_fd_ = -1;  // eventfd that stops the dispatcher
  std::mutex mutex_;
  std::condition_variable answered_;
  std::unordered_map<Pending*, std::unique_ptr<Pending>> pending_;
  bool broken_ = false;  // libunbound's pipe failed: every lookup fails fast
  std::thread dispatcher_;
};

}  // namespace postern::dns
