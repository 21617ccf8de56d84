// `postern log summary` (logsum/summary.hpp): the parser and aggregator read
// whatever file the operator points them at. Any bytes give a report, and
// the report never carries a control byte to the terminal.
#include <cstdint>
#include <string_view>

#include "fuzz_input.hpp"
#include "logsum/summary.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string report = postern::logsum::summarize(text);
  FUZZ_CHECK(report.find("Grand totals") != std::string::npos);
  for (char c : report) {
    const auto u = static_cast<unsigned char>(c);
    FUZZ_CHECK(c == '\n' || (u >= 0x20 && u != 0x7f));
  }
  return 0;
}
