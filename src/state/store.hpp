// Where shared counters live (SPEC §1.10): one interface, two backends.
// InProcessStore (the default) keeps them in this process; RedisStore in
// Redis, so that several nodes share one budget per user and one
// AUTH-failure count. Every request is answered exactly once, never
// blocks the caller's event loop, and is never refused for the backend's
// trouble: when Redis cannot answer, the node answers from its own
// counters (docs/limits.md, "When Redis is down").
#pragma once

#include <functional>

#include "limits/counters.hpp"

namespace postern::state {

class Store {
 public:
  virtual ~Store() = default;
  using Done = std::function<void(limits::Outcome)>;
  // Thread-safe. `done` runs exactly once, on any thread (possibly inside
  // this call); callers on an event loop post back to it (net/async_bridge).
  virtual void apply(limits::Request request, Done done) = 0;
  // "in-process" or "redis://host:port/db" (without a password), for logs.
  virtual std::string describe() const = 0;
};

}  // namespace postern::state
