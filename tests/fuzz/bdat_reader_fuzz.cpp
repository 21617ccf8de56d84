// The BDAT chunk reader (smtp/bdat_reader.hpp, RFC 3030): a message in
// chunks of announced sizes. Parsegrind property: however each chunk's bytes
// arrive, the stored message is the same and never longer than the limit.
#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "smtp/bdat_reader.hpp"

using namespace postern;

namespace {

struct Chunk {
  std::size_t size;
  bool last;
  bool discard;
};

std::string read(const std::vector<Chunk>& chunks, std::string_view bytes,
                 const std::vector<std::uint8_t>& sizes, std::size_t limit, bool& overflowed) {
  smtp::BdatReader r;
  std::string body;
  for (const Chunk& c : chunks) {
    r.begin_chunk(c.size, c.last, c.discard);
    FUZZ_CHECK(r.chunk_size() == c.size);
    for (const std::string_view p : fuzz::pieces(bytes.substr(0, c.size), sizes)) {
      std::string_view left = p;
      while (!left.empty() && !r.chunk_done()) {
        const std::size_t n = r.feed(left, body, limit);
        FUZZ_CHECK(n > 0 && n <= left.size());
        left.remove_prefix(n);
      }
    }
    bytes.remove_prefix(std::min(c.size, bytes.size()));
    if (!r.chunk_done()) break;  // the input ran out mid-chunk
    if (c.last) {
      r.finish(body, limit);
      break;
    }
  }
  overflowed = r.overflowed();
  return body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::size_t limit = in.flag() ? SIZE_MAX : in.byte() * 2;
  std::vector<Chunk> chunks;
  for (int i = 1 + in.byte() % 4; i > 0; --i) {
    const std::uint8_t b = in.byte();
    chunks.push_back({static_cast<std::size_t>(in.byte()), i == 1 || (b & 1), (b & 2) != 0});
  }
  std::vector<std::uint8_t> sizes;
  for (int i = in.byte() % 4; i > 0; --i) sizes.push_back(in.byte());
  const std::string_view bytes = in.rest();
  bool overflow_whole = false;
  bool overflow_split = false;
  const std::string whole = read(chunks, bytes, {}, limit, overflow_whole);
  const std::string split = read(chunks, bytes, sizes, limit, overflow_split);
  // An overflowed message is refused and dropped: only an accepted one must
  // be the same byte for byte.
  if (!overflow_whole) FUZZ_CHECK(whole == split);
  FUZZ_CHECK(overflow_whole == overflow_split);
  FUZZ_CHECK(whole.size() <= limit);
  return 0;
}
