// Requests on shared counters, and the in-memory table that answers them.
// Every counter postern shares between sessions (and, with Redis, between
// nodes) is one of these: per-user message and recipient limits, AUTH
// failures per address, per user, per (user, client network), and the
// networks a user logged in from. A state backend (src/state) answers a
// Request atomically: all its counters are read and changed as one step.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "limits/rate.hpp"
#include "limits/sliding_window.hpp"

namespace postern::limits {

struct Counter {
  std::string key;  // "msg:60000:alice@example.com"; backends add their own prefix
  Rate rate;
};

enum class Op {
  take,  // if `amount` more fit under every counter, add them to all; else change nothing
  add,   // add to all, whatever the counts (failures that happened)
  peek,  // change nothing; say whether `amount` more would fit
  clear  // forget the counters
};

struct Request {
  Op op = Op::peek;
  std::vector<Counter> counters;
  std::uint64_t amount = 1;
};

struct CounterView {
  std::uint64_t count = 0;                   // events that count, after the operation
  std::chrono::milliseconds retry_after{0};  // until `amount` more fit (before the operation)
};

struct Outcome {
  bool allowed = true;                // take: added; peek: would fit; add/clear: always true
  std::vector<CounterView> counters;  // one per Request counter, in order
  bool shared = false;                // answered by the shared backend (Redis), not this process
};

// The counters of one process. Not thread-safe: the in-process backend
// holds it under a mutex. Memory stays bounded: sweep() drops counters that
// no longer count, and apply() sweeps by itself as the table grows.
class CounterTable {
 public:
  Outcome apply(const Request& request, std::int64_t now_ms);
  void sweep(std::int64_t now_ms);
  std::size_t size() const { return windows_.size(); }

 private:
  struct Entry {
    SlidingWindow window;
    Rate rate;
  };
  std::unordered_map<std::string, Entry> windows_;
  std::size_t sweep_at_ = 4096;
};

}  // namespace postern::limits
