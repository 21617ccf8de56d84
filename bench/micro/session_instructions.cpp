// The driver that bench/callgrind_session.sh runs under
// `valgrind --tool=callgrind`: it pushes N identical 4 KiB messages through
// the session engine (one whole session each) or through the DATA decoder
// alone. No sockets, no clock, no randomness, so the instruction count is
// the same on every run and the difference between N=100 and N=1 divided
// by 99 is the cost of one message without the start-up.
//
//   postern_session_instructions N session|decoder
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "micro/sample_messages.hpp"
#include "micro/session_driver.hpp"
#include "smtp/dot_decoder.hpp"

namespace {

using postern::bench::LineEnding;

int usage() {
  std::fputs("usage: postern_session_instructions MESSAGES session|decoder\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return usage();
  const std::string_view count_text = argv[1];
  unsigned long count = 0;
  const auto [end, ec] =
      std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
  if (ec != std::errc() || end != count_text.data() + count_text.size() || count == 0) {
    return usage();
  }
  const std::string_view mode = argv[2];
  const std::string data =
      postern::bench::wire_message(postern::bench::kMessageSize, LineEnding::crlf, false);

  std::size_t checksum = 0;
  if (mode == "session") {
    postern::bench::SessionDriver driver;
    for (unsigned long i = 0; i < count; ++i) {
      if (!driver.deliver(data)) {
        std::fprintf(stderr, "message %lu was not answered 250 queued\n", i);
        return 1;
      }
    }
    checksum = driver.committed_bytes();
  } else if (mode == "decoder") {
    postern::smtp::DotDecoder decoder;
    std::string out;
    for (unsigned long i = 0; i < count; ++i) {
      decoder.reset();
      out.clear();
      const std::size_t used = decoder.feed(data, out, SIZE_MAX);
      if (!decoder.done() || used != data.size()) {
        std::fputs("the decoder did not find the end marker\n", stderr);
        return 1;
      }
      checksum += out.size();
    }
  } else {
    return usage();
  }
  // Printed so the work cannot be optimised away, and as a sanity check.
  std::printf("%s messages=%lu bytes=%zu\n", std::string(mode).c_str(), count, checksum);
  return 0;
}
