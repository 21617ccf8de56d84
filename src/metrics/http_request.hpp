// The HTTP/1.x request parser of the metrics endpoint. Pure: it is fed bytes
// and says how many it used, like Boost.Beast's parser, with its limits on
// the parser itself. Only the request line matters to us (a scrape is
// `GET /metrics`); header fields are skipped but counted against the limit,
// and a request body is never read (a GET has none, anything else is
// refused before it would matter). RFC 9112 §2-3.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace postern::metrics {

class HttpRequestParser {
 public:
  // The whole head (request line and header fields) may not exceed this:
  // Prometheus sends about 250 bytes.
  static constexpr std::size_t kMaxHeadBytes = 8192;
  // RFC 9112 §3 recommends supporting request lines of at least 8000
  // octets; ours is a metrics path, so a tenth is plenty.
  static constexpr std::size_t kMaxRequestLine = 1024;

  enum class State { incomplete, complete, bad, too_large };

  // Consumes bytes up to the end of the head; returns how many it used.
  // Once the state is no longer `incomplete`, feeding uses nothing.
  std::size_t feed(std::string_view bytes);

  State state() const { return state_; }
  const std::string& method() const { return method_; }
  const std::string& target() const { return target_; }  // without the query
  const std::string& version() const { return version_; }

 private:
  void finish_line();
  bool parse_request_line(std::string_view line);

  State state_ = State::incomplete;
  std::string line_;  // the line being read, without CR LF
  std::size_t head_bytes_ = 0;
  bool have_request_line_ = false;
  std::string method_, target_, version_;
};

struct HttpResponse {
  int status = 200;
  std::string reason;
  std::string content_type;
  std::string body;
  bool head_only = false;  // HEAD: the headers of a GET, no body
};

// What the endpoint answers: GET or HEAD of /metrics gets `exposition`
// (called only then); any other path 404, any other method 405, a bad
// request 400, a head over the limit 431. Nothing else is served.
HttpResponse route(const HttpRequestParser& request,
                   const std::function<std::string()>& exposition);

// Status line, Content-Type, Content-Length, Connection: close, blank line,
// body.
std::string serialize(const HttpResponse& response);

}  // namespace postern::metrics
