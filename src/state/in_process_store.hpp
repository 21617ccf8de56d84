// The default backend: counters in this process, under one mutex (an
// operation is a few map lookups, far below the cost of the SMTP command
// that asks for it).
#pragma once

#include <mutex>

#include "limits/counters.hpp"
#include "state/store.hpp"

namespace postern::state {

class InProcessStore : public Store {
 public:
  void apply(limits::Request request, Done done) override;
  std::string describe() const override { return "in-process"; }
  // Synchronous form, for the Redis backend's fallback and mirror.
  limits::Outcome apply_now(const limits::Request& request);

 private:
  std::mutex mu_;
  limits::CounterTable table_;
};

}  // namespace postern::state
