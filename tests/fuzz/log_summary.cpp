// libFuzzer target for `postern log summary`: the parser and aggregator
// read whatever file the operator points them at. Build with clang:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
//     tests/fuzz/log_summary.cpp src/logsum/*.cpp -lfmt -o fuzz_log_summary
//   ./fuzz_log_summary tests/fuzz/corpus/log_summary
// tests/unit/logsum runs the same entry point over random bytes and cut
// lines on every build.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "logsum/summary.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)postern::logsum::summarize(text);
  return 0;
}
