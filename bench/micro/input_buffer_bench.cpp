// The command-line splitter (smtp/input_buffer.hpp): a 4 KiB flight of
// pipelined RCPT lines (RFC 2920) appended at once and taken out line by
// line, with CRLF and with the bare LF some clients send.
#include <benchmark/benchmark.h>

#include <string>

#include "core/limits.hpp"
#include "micro/sample_messages.hpp"
#include "smtp/input_buffer.hpp"

namespace postern::smtp {
namespace {

using bench::LineEnding;

void BM_InputBufferLines(benchmark::State& state, LineEnding ending) {
  const std::string flight = bench::command_lines(bench::kMessageSize, ending);
  InputBuffer buffer(kMaxCommandLine);
  std::string line;
  std::int64_t lines = 0;
  for (auto _ : state) {
    buffer.append(flight);
    while (buffer.next_line(line) == InputBuffer::LineResult::line) {
      benchmark::DoNotOptimize(line.data());
      ++lines;
    }
  }
  state.SetItemsProcessed(lines);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(flight.size()));
}
BENCHMARK_CAPTURE(BM_InputBufferLines, crlf, LineEnding::crlf);
BENCHMARK_CAPTURE(BM_InputBufferLines, bare_lf, LineEnding::bare_lf);

}  // namespace
}  // namespace postern::smtp
