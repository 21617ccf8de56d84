// A whole 4 KiB message through smtp::ServerSession: banner, EHLO,
// MAIL/RCPT/DATA pipelined, the message, the commit acknowledged, 250, QUIT.
// This is the protocol work per message that the network driver adds its
// reads and writes to.
#include <benchmark/benchmark.h>

#include <string>

#include "micro/sample_messages.hpp"
#include "micro/session_driver.hpp"

namespace postern::smtp {
namespace {

using bench::LineEnding;

// A new session per message, as smtp-source uses by default.
void BM_SessionPerMessage(benchmark::State& state) {
  const std::string data = bench::wire_message(bench::kMessageSize, LineEnding::crlf, false);
  bench::SessionDriver driver;
  for (auto _ : state) {
    if (!driver.deliver(data)) {
      state.SkipWithError("the message was not answered 250 queued");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
}
BENCHMARK(BM_SessionPerMessage);

// Many messages on one session (smtp-source -m with a reused connection).
void BM_SessionTransaction(benchmark::State& state) {
  const std::string data = bench::wire_message(bench::kMessageSize, LineEnding::crlf, false);
  bench::SessionDriver driver;
  driver.open();
  for (auto _ : state) {
    if (!driver.transaction(data)) {
      state.SkipWithError("the message was not answered 250 queued");
      break;
    }
  }
  driver.close();
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
}
BENCHMARK(BM_SessionTransaction);

}  // namespace
}  // namespace postern::smtp
