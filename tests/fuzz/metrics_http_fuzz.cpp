// The metrics endpoint's HTTP request parser (metrics/http_request.hpp):
// bytes from whoever can reach [metrics] address. Parsegrind property:
// however the bytes are split, the parser ends in the same state with the
// same request line, uses no byte past the end of the head, and never
// holds more than its limits; the answer is one of the five statuses it
// may give, and the metrics are produced only for GET or HEAD /metrics.
#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "metrics/http_request.hpp"

using namespace postern;
using metrics::HttpRequestParser;

namespace {

struct Parsed {
  HttpRequestParser parser;
  std::size_t used = 0;
};

Parsed parse(const std::vector<std::string_view>& parts) {
  Parsed p;
  for (const std::string_view part : parts) {
    const std::size_t n = p.parser.feed(part);
    FUZZ_CHECK(n <= part.size());
    p.used += n;
    // Once decided, nothing more is consumed: the rest of the bytes (a
    // body, a second request) is never read.
    if (p.parser.state() != HttpRequestParser::State::incomplete) {
      FUZZ_CHECK(p.parser.feed(part.substr(n)) == 0);
    } else {
      FUZZ_CHECK(n == part.size());
    }
  }
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  std::vector<std::uint8_t> sizes;
  for (int i = 1 + in.byte() % 4; i > 0; --i) sizes.push_back(in.byte());
  const std::string_view bytes = in.rest();

  const Parsed whole = parse({bytes});
  const Parsed split = parse(fuzz::pieces(bytes, sizes));
  FUZZ_CHECK(whole.parser.state() == split.parser.state());
  FUZZ_CHECK(whole.used == split.used);
  FUZZ_CHECK(whole.used <= HttpRequestParser::kMaxHeadBytes + 1);
  FUZZ_CHECK(whole.parser.method() == split.parser.method());
  FUZZ_CHECK(whole.parser.target() == split.parser.target());
  FUZZ_CHECK(whole.parser.version() == split.parser.version());
  FUZZ_CHECK(whole.parser.target().size() <= HttpRequestParser::kMaxRequestLine);

  bool produced = false;
  const metrics::HttpResponse r = metrics::route(whole.parser, [&] {
    produced = true;
    return std::string("postern_up 1\n");
  });
  FUZZ_CHECK(r.status == 200 || r.status == 400 || r.status == 404 || r.status == 405 ||
             r.status == 431);
  const bool scrape = whole.parser.state() == HttpRequestParser::State::complete &&
                      whole.parser.target() == "/metrics" &&
                      (whole.parser.method() == "GET" || whole.parser.method() == "HEAD");
  FUZZ_CHECK(produced == scrape);
  FUZZ_CHECK((r.status == 200) == scrape);
  const std::string out = metrics::serialize(r);
  FUZZ_CHECK(out.starts_with("HTTP/1.1 "));
  FUZZ_CHECK(out.find("\r\n\r\n") != std::string::npos);
  return 0;
}
