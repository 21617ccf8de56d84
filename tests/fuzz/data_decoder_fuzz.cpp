// The DATA decoder (smtp/dot_decoder.hpp): dot-unstuffing and the end
// marker. Parsegrind property: however the bytes are split into reads, the
// decoded message, the bytes used and the verdict are the same.
#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "smtp/dot_decoder.hpp"

using namespace postern;

namespace {

struct Decoded {
  std::string out;
  std::size_t used = 0;
  bool done = false;
  bool overflowed = false;
};

Decoded decode(const std::vector<std::string_view>& parts, std::size_t limit) {
  smtp::DotDecoder d;
  Decoded r;
  for (const std::string_view p : parts) {
    if (d.done()) break;
    const std::size_t n = d.feed(p, r.out, limit);
    FUZZ_CHECK(n <= p.size());
    r.used += n;
    FUZZ_CHECK(d.done() || n == p.size());  // only the end marker stops it early
  }
  r.done = d.done();
  r.overflowed = d.overflowed();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::size_t limit = in.flag() ? SIZE_MAX : in.byte() * 4;
  std::vector<std::uint8_t> sizes;
  for (int i = in.byte() % 4; i > 0; --i) sizes.push_back(in.byte());
  const std::string_view body = in.rest();
  const Decoded whole = decode({body}, limit);
  const Decoded split =
      decode(fuzz::pieces(body, sizes.empty() ? std::vector<std::uint8_t>{0} : sizes), limit);
  // Past the limit the message is refused (552) and what was stored of it
  // dropped, so only an accepted message must be the same byte for byte.
  if (!whole.overflowed) FUZZ_CHECK(whole.out == split.out);
  FUZZ_CHECK(whole.used == split.used);
  FUZZ_CHECK(whole.done == split.done);
  FUZZ_CHECK(whole.overflowed == split.overflowed);
  FUZZ_CHECK(whole.out.size() <= limit);
  // No bare CR or LF survives (SMTP smuggling): every LF follows a CR and
  // every CR is followed by LF.
  for (std::size_t i = 0; i < whole.out.size(); ++i) {
    if (whole.out[i] == '\n') FUZZ_CHECK(i > 0 && whole.out[i - 1] == '\r');
    if (whole.out[i] == '\r') FUZZ_CHECK(i + 1 < whole.out.size() && whole.out[i + 1] == '\n');
  }
  return 0;
}
