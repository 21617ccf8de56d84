// Helpers shared by the fuzz targets: carving a fuzzer's input into the
// pieces a target needs, without ever reading past its end.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace postern::fuzz {

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  // One byte (0 once the input is used up).
  std::uint8_t byte() {
    if (rest_.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  bool flag() { return byte() & 1; }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

// Splits `text` into pieces whose lengths cycle through `sizes` (each 1 to
// 16): the same bytes arriving in other TCP segments, which a streaming
// decoder must not notice.
inline std::vector<std::string_view> pieces(std::string_view text,
                                            const std::vector<std::uint8_t>& sizes) {
  std::vector<std::string_view> out;
  std::size_t k = 0;
  while (!text.empty()) {
    const std::size_t n = sizes.empty() ? text.size() : 1 + sizes[k++ % sizes.size()] % 16;
    out.push_back(text.substr(0, std::min(n, text.size())));
    text.remove_prefix(out.back().size());
  }
  return out;
}

}  // namespace postern::fuzz

// A failed check aborts, which libFuzzer and the replay driver both report
// with the input that caused it (assert() would vanish under NDEBUG).
#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      __builtin_abort();                                                                  \
    }                                                                                     \
  } while (0)
