#include "metrics/http_request.hpp"

namespace postern::metrics {
namespace {

// RFC 9110 §5.6.2 token characters, for the method.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::size_t HttpRequestParser::feed(std::string_view bytes) {
  std::size_t used = 0;
  while (state_ == State::incomplete && used < bytes.size()) {
    const char c = bytes[used++];
    if (++head_bytes_ > kMaxHeadBytes) {
      state_ = State::too_large;
      break;
    }
    if (c == '\n') {
      // A bare LF ends a line too (RFC 9112 §2.2 allows a recipient to
      // accept it); the CR before it, if any, is dropped here.
      if (!line_.empty() && line_.back() == '\r') line_.pop_back();
      finish_line();
      line_.clear();
      continue;
    }
    if (c == '\0') {
      state_ = State::bad;
      break;
    }
    line_ += c;
    // The CR of a CR LF is not part of the line's length.
    const std::size_t length = line_.size() - (c == '\r' ? 1 : 0);
    if (!have_request_line_ && length > kMaxRequestLine) state_ = State::too_large;
  }
  return used;
}

void HttpRequestParser::finish_line() {
  if (!have_request_line_) {
    // RFC 9112 §2.2: empty lines before the request line are ignored.
    if (line_.empty()) return;
    have_request_line_ = true;
    if (!parse_request_line(line_)) state_ = State::bad;
    return;
  }
  if (line_.empty()) {
    state_ = State::complete;  // end of the head
    return;
  }
  // A header field: "name: value". Obsolete line folding (a line starting
  // with white space) is refused, as RFC 9112 §5.2 allows.
  if (line_[0] == ' ' || line_[0] == '\t' || line_.find(':') == std::string::npos) {
    state_ = State::bad;
  }
}

bool HttpRequestParser::parse_request_line(std::string_view line) {
  // method SP request-target SP HTTP-version (RFC 9112 §3)
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return false;
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return false;
  if (line.find(' ', sp2 + 1) != std::string_view::npos) return false;
  method_ = line.substr(0, sp1);
  for (const char c : method_) {
    if (!is_tchar(c)) return false;
  }
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target[0] != '/') return false;  // origin-form only
  for (const char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  target_ = target.substr(0, target.find('?'));
  version_ = line.substr(sp2 + 1);
  return version_ == "HTTP/1.1" || version_ == "HTTP/1.0";
}

HttpResponse route(const HttpRequestParser& request,
                   const std::function<std::string()>& exposition) {
  auto plain = [](int status, std::string reason, std::string body) {
    return HttpResponse{status, std::move(reason), "text/plain; charset=utf-8", std::move(body)};
  };
  switch (request.state()) {
    case HttpRequestParser::State::incomplete:
    case HttpRequestParser::State::bad:
      return plain(400, "Bad Request", "bad request\n");
    case HttpRequestParser::State::too_large:
      return plain(431, "Request Header Fields Too Large", "request head too large\n");
    case HttpRequestParser::State::complete:
      break;
  }
  if (request.target() != "/metrics") {
    return plain(404, "Not Found", "only /metrics is served here\n");
  }
  if (request.method() != "GET" && request.method() != "HEAD") {
    auto r = plain(405, "Method Not Allowed", "only GET and HEAD\n");
    return r;
  }
  HttpResponse r{200, "OK", "text/plain; version=0.0.4; charset=utf-8", exposition()};
  r.head_only = request.method() == "HEAD";
  return r;
}

std::string serialize(const HttpResponse& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + response.reason + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  if (response.status == 405) out += "Allow: GET, HEAD\r\n";
  out += "Connection: close\r\n\r\n";
  if (!response.head_only) out += response.body;
  return out;
}

}  // namespace postern::metrics
