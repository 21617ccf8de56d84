#include "metrics/http_request.hpp"

#include <gtest/gtest.h>

namespace postern::metrics {
namespace {

using State = HttpRequestParser::State;

constexpr std::string_view kScrape =
    "GET /metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9325\r\nUser-Agent: Prometheus/2.42.0\r\n"
    "Accept: text/plain;version=0.0.4\r\n\r\n";

TEST(HttpRequestParser, ReadsAPrometheusScrape) {
  HttpRequestParser p;
  EXPECT_EQ(p.feed(kScrape), kScrape.size());
  ASSERT_EQ(p.state(), State::complete);
  EXPECT_EQ(p.method(), "GET");
  EXPECT_EQ(p.target(), "/metrics");
  EXPECT_EQ(p.version(), "HTTP/1.1");
}

TEST(HttpRequestParser, SplitAtEveryByteAndOneByteAtATime) {
  for (std::size_t cut = 0; cut <= kScrape.size(); ++cut) {
    HttpRequestParser p;
    p.feed(kScrape.substr(0, cut));
    p.feed(kScrape.substr(cut));
    ASSERT_EQ(p.state(), State::complete) << "cut at " << cut;
    EXPECT_EQ(p.target(), "/metrics");
  }
  HttpRequestParser p;
  for (const char c : kScrape) p.feed(std::string_view(&c, 1));
  EXPECT_EQ(p.state(), State::complete);
}

TEST(HttpRequestParser, StopsAtTheEndOfTheHead) {
  const std::string bytes = std::string(kScrape) + "BODY";
  HttpRequestParser p;
  EXPECT_EQ(p.feed(bytes), kScrape.size());
  EXPECT_EQ(p.feed("more"), 0u);
}

TEST(HttpRequestParser, HeadAtTheLimitAndOneOver) {
  const std::string start = "GET /metrics HTTP/1.1\r\n";
  const std::string end = "\r\n";
  const std::size_t filler = HttpRequestParser::kMaxHeadBytes - start.size() - end.size();
  // One header field "X: aaaa...\r\n" that fills the head exactly.
  const std::string field = "X: " + std::string(filler - 5, 'a') + "\r\n";
  ASSERT_EQ(start.size() + field.size() + end.size(), HttpRequestParser::kMaxHeadBytes);
  HttpRequestParser at;
  at.feed(start + field + end);
  EXPECT_EQ(at.state(), State::complete);
  HttpRequestParser over;
  over.feed(start + "X: a" + field.substr(3) + end);
  EXPECT_EQ(over.state(), State::too_large);
}

TEST(HttpRequestParser, RequestLineAtTheLimitAndOneOver) {
  const std::string prefix = "GET /";
  const std::string suffix = " HTTP/1.1";
  const std::string at_limit =
      prefix +
      std::string(HttpRequestParser::kMaxRequestLine - prefix.size() - suffix.size(), 'a') + suffix;
  HttpRequestParser at;
  at.feed(at_limit + "\r\n\r\n");
  EXPECT_EQ(at.state(), State::complete);
  HttpRequestParser over;
  over.feed("GET /a" + at_limit.substr(5) + "\r\n\r\n");
  EXPECT_EQ(over.state(), State::too_large);
}

TEST(HttpRequestParser, RefusesWhatIsNotAnOriginFormRequest) {
  for (const std::string_view bad : std::initializer_list<std::string_view>{
           "GET http://x/metrics HTTP/1.1\r\n\r\n", "GET /metrics\r\n\r\n",
           "GET  /metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/2\r\n\r\n",
           "G(T /metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/1.1\r\n folded\r\n\r\n",
           "GET /metrics HTTP/1.1\r\nno colon\r\n\r\n", "EHLO example.com\r\n",
           std::string_view("GET /m\0 HTTP/1.1\r\n\r\n", 21)}) {
    HttpRequestParser p;
    p.feed(bad);
    EXPECT_EQ(p.state(), State::bad) << bad;
  }
}

TEST(Route, ServesOnlyGetAndHeadOfMetrics) {
  auto answer = [](std::string_view request) {
    HttpRequestParser p;
    p.feed(request);
    return route(p, [] { return std::string("x_total 1\n"); });
  };
  const auto ok = answer("GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "x_total 1\n");
  EXPECT_EQ(ok.content_type, "text/plain; version=0.0.4; charset=utf-8");
  const auto head = answer("HEAD /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(serialize(head).find("x_total"), std::string::npos);
  EXPECT_NE(serialize(head).find("Content-Length: 10\r\n"), std::string::npos);
  EXPECT_EQ(answer("GET / HTTP/1.1\r\n\r\n").status, 404);
  EXPECT_EQ(answer("GET /metrics/ HTTP/1.1\r\n\r\n").status, 404);
  EXPECT_EQ(answer("POST /metrics HTTP/1.1\r\n\r\n").status, 405);
  EXPECT_EQ(answer("garbage\r\n\r\n").status, 400);
  EXPECT_EQ(answer("GET /metrics HTTP/1.1\r\n").status, 400);  // never finished
}

TEST(Serialize, ClosesAfterTheAnswer) {
  const std::string s = serialize(HttpResponse{404, "Not Found", "text/plain", "no\n"});
  EXPECT_EQ(s,
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
            "Connection: close\r\n\r\nno\n");
}

}  // namespace
}  // namespace postern::metrics
