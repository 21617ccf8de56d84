// The configuration loader (config/config.hpp): TOML text to a typed Config
// or a list of problems, each naming where and how to fix it.
#include <cstdint>

#include "config/config.hpp"
#include "fuzz_input.hpp"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // A base directory that does not exist: relative paths resolve under it
  // and no file the input names is ever found there.
  const config::LoadResult r = config::load_string(text, "/nonexistent/postern-fuzz/postern.toml",
                                                   "/nonexistent/postern-fuzz");
  FUZZ_CHECK(r.config.has_value() || !r.problems.empty());
  for (const config::Problem& p : r.problems) {
    FUZZ_CHECK(!p.where.empty());
    FUZZ_CHECK(!p.message.empty());
  }
  return 0;
}
