// DATA decoding (smtp/dot_decoder.hpp): dot-unstuffing, the end marker and
// bare CR/LF normalisation over a 4 KiB message, fed whole as one read
// would deliver it and in 512-octet pieces as a slow or small-window
// client would.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>

#include "message/line_endings.hpp"
#include "micro/sample_messages.hpp"
#include "smtp/dot_decoder.hpp"

namespace postern::smtp {
namespace {

using bench::LineEnding;

enum class Form { crlf, bare_lf, dot_stuffed };

// `chunk`: octets per feed() call, 0 for the whole message at once.
void BM_DotDecoder(benchmark::State& state, Form form, std::size_t chunk) {
  const std::string in = bench::wire_message(
      bench::kMessageSize, form == Form::bare_lf ? LineEnding::bare_lf : LineEnding::crlf,
      form == Form::dot_stuffed);
  const std::size_t step = chunk == 0 ? in.size() : chunk;
  std::string out;
  out.reserve(2 * in.size());
  DotDecoder decoder;
  for (auto _ : state) {
    decoder.reset();
    out.clear();
    std::size_t used = 0;
    while (used < in.size() && !decoder.done()) {
      const std::string_view piece =
          std::string_view(in).substr(used, std::min(step, in.size() - used));
      used += decoder.feed(piece, out, SIZE_MAX);
    }
    if (!decoder.done() || used != in.size()) {
      state.SkipWithError("the end marker was not found where it is");
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}
BENCHMARK_CAPTURE(BM_DotDecoder, crlf_whole, Form::crlf, 0);
BENCHMARK_CAPTURE(BM_DotDecoder, crlf_512, Form::crlf, 512);
BENCHMARK_CAPTURE(BM_DotDecoder, bare_lf_whole, Form::bare_lf, 0);
BENCHMARK_CAPTURE(BM_DotDecoder, bare_lf_512, Form::bare_lf, 512);
BENCHMARK_CAPTURE(BM_DotDecoder, dot_stuffed_whole, Form::dot_stuffed, 0);
BENCHMARK_CAPTURE(BM_DotDecoder, dot_stuffed_512, Form::dot_stuffed, 512);

// BDAT content has no stuffing but is normalised the same way.
void BM_NormalizeLineEndings(benchmark::State& state) {
  const std::string in = bench::wire_message(bench::kMessageSize, LineEnding::bare_lf, false);
  for (auto _ : state) {
    const std::string out = message::normalize_line_endings(in);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}
BENCHMARK(BM_NormalizeLineEndings);

}  // namespace
}  // namespace postern::smtp
