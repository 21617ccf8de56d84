// Shared counters in Redis (SPEC §1.10, `[state] url`). One connection per
// process, reused by every session, on one event loop; requests are
// pipelined on it and answered by one Lua script each (state/redis_script),
// so a request is atomic however many nodes ask at once.
//
// Redis is never allowed to stop mail: a request is answered from this
// process's own counters (InProcessStore) whenever Redis cannot answer at
// once — not connected yet, reconnecting, an error reply, or no answer
// within kCommandTimeout. Every request Redis did count is also counted
// locally, so the local counters carry this node's recent history into an
// outage. The connection is retried with backoff (kRetryInitial doubling
// to kRetryMax), and the outage is logged once a minute, not per request.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <memory>

#include "config/redis_url.hpp"
#include "state/in_process_store.hpp"
#include "state/store.hpp"

namespace postern::state {

inline constexpr std::chrono::milliseconds kCommandTimeout{500};
inline constexpr std::chrono::milliseconds kConnectTimeout{1000};
inline constexpr std::chrono::milliseconds kRetryInitial{200};
inline constexpr std::chrono::milliseconds kRetryMax{5000};
inline constexpr std::chrono::seconds kDownLogInterval{60};

class RedisStore : public Store {
 public:
  // Connects on `loop` once it runs. The loop must outlive the store, and
  // the store is destroyed after the loop stopped running.
  RedisStore(asio::io_context& loop, config::RedisUrl url);
  ~RedisStore() override;

  void apply(limits::Request request, Done done) override;
  std::string describe() const override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace postern::state
