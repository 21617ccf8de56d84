// The scan's table and JSON, from hand-made rows; and scan_ports against
// loopback ports nobody listens on.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "probe/port_scan.hpp"
#include "probe/scan_report.hpp"

namespace postern::probe {
namespace {

using namespace std::chrono_literals;

ScanReport sample() {
  ScanReport report;
  report.host = "mail.example.test";
  PortRow ok;
  ok.port = 587;
  ok.result.host = "mail.example.test";
  ok.result.port = 587;
  ok.result.steps = {{Stage::connect, true, 1ms, ""}};
  ok.result.tls_found = TlsFound::starttls;
  ok.result.tls_version = "TLSv1.3";
  ok.result.auth_mechanisms = {"PLAIN", "LOGIN"};
  ok.result.certificate.present = true;
  ok.result.certificate.trusted = true;
  ok.result.certificate.name_matches = true;
  ok.reachable = true;
  PortRow selfsigned = ok;
  selfsigned.port = 465;
  selfsigned.result.port = 465;
  selfsigned.result.tls_found = TlsFound::implicit;
  selfsigned.result.auth_mechanisms.clear();
  selfsigned.result.certificate.trusted = false;
  selfsigned.result.certificate.self_signed = true;
  selfsigned.result.diagnosis = Diagnosis::certificate_self_signed;
  selfsigned.result.failed_stage = Stage::certificate;
  PortRow refused;
  refused.port = 25;
  refused.result.port = 25;
  refused.result.diagnosis = Diagnosis::connect_refused;
  refused.result.failed_stage = Stage::connect;
  report.rows = {ok, selfsigned, refused};
  report.recommendation = recommend(report.rows);
  return report;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(ScanReport, TextIsAnAlignedTableThenTheRecommendation) {
  const std::string text = render_scan_text(sample(), false);
  const auto l = lines(text);
  ASSERT_GE(l.size(), 6u) << text;
  EXPECT_NE(l[0].find("PORT"), std::string::npos);
  // Every column starts at the same offset on every row.
  for (std::string_view column : {"REACHABLE", "TLS", "VERSION", "AUTH", "CERTIFICATE", "RESULT"}) {
    const std::size_t at = l[0].find(column);
    ASSERT_NE(at, std::string::npos) << column;
    for (std::size_t i = 1; i <= 3; ++i) {
      EXPECT_NE(l[i][at], ' ') << column << " row " << i << "\n" << text;
      EXPECT_EQ(l[i][at - 1], ' ') << column << " row " << i << "\n" << text;
    }
  }
  EXPECT_NE(l[1].find("587"), std::string::npos);
  EXPECT_NE(l[1].find("starttls"), std::string::npos);
  EXPECT_NE(l[1].find("PLAIN LOGIN"), std::string::npos);
  EXPECT_NE(l[2].find("self-signed"), std::string::npos);
  EXPECT_NE(l[2].find("implicit"), std::string::npos);
  EXPECT_NE(l[3].find("connect_refused"), std::string::npos);
  EXPECT_NE(l[3].find(" no "), std::string::npos);
  EXPECT_NE(text.find("Recommendation: port 587 with --tls starttls."), std::string::npos) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(ScanReport, ColourOnlyWhenAskedAndTableStillAligned) {
  const std::string text = render_scan_text(sample(), true);
  EXPECT_NE(text.find("\x1b[32myes\x1b[0m"), std::string::npos) << text;
  EXPECT_NE(text.find("\x1b[31mno\x1b[0m"), std::string::npos) << text;
}

TEST(ScanReport, NoRecommendation) {
  ScanReport report = sample();
  report.rows.erase(report.rows.begin());
  report.rows.erase(report.rows.begin());
  report.recommendation = recommend(report.rows);
  EXPECT_NE(render_scan_text(report, false).find("Recommendation: none. "), std::string::npos);
}

TEST(ScanReport, JsonSchema) {
  const auto doc = nlohmann::json::parse(render_scan_json(sample()));
  EXPECT_EQ(doc["schema"], 1);
  EXPECT_EQ(doc["command"], "probe");
  EXPECT_EQ(doc["host"], "mail.example.test");
  EXPECT_EQ(doc["exit_status"], 0);
  ASSERT_EQ(doc["ports"].size(), 3u);
  EXPECT_EQ(doc["ports"][0]["port"], 587);
  EXPECT_EQ(doc["ports"][0]["reachable"], true);
  EXPECT_EQ(doc["ports"][0]["tls"]["found"], "starttls");
  EXPECT_EQ(doc["ports"][1]["diagnosis"], "certificate_self_signed");
  EXPECT_EQ(doc["ports"][2]["reachable"], false);
  EXPECT_EQ(doc["recommendation"]["port"], 587);
  EXPECT_EQ(doc["recommendation"]["tls"], "starttls");
  EXPECT_TRUE(doc["recommendation"]["relay_port"].is_null());
  EXPECT_FALSE(doc["recommendation"]["reason"].get<std::string>().empty());
}

// A loopback port that nothing listens on (bound, then closed).
std::uint16_t closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

TEST(ScanPorts, RowsInOrderOfThePortsAndRefusedIsNotReachable) {
  ProbeOptions base;
  base.host = "127.0.0.1";
  base.timeout = 2000ms;
  std::vector<std::string> seen;
  base.transcript = [&seen](const TranscriptLine& l) { seen.push_back(l.text); };
  const std::vector<std::uint16_t> ports = {closed_port(), closed_port(), closed_port()};
  const ScanReport report = scan_ports(base, ports, 2);
  EXPECT_EQ(report.host, "127.0.0.1");
  ASSERT_EQ(report.rows.size(), 3u);
  for (std::size_t i = 0; i < ports.size(); ++i) {
    EXPECT_EQ(report.rows[i].port, ports[i]);
    EXPECT_EQ(report.rows[i].result.port, ports[i]);
    EXPECT_FALSE(report.rows[i].reachable);
    EXPECT_EQ(report.rows[i].result.diagnosis, Diagnosis::connect_refused);
  }
  EXPECT_FALSE(report.recommendation.port);
  EXPECT_EQ(exit_status(report), 4);
  // -v lines of walks run at once are tagged with their port.
  for (const std::string& line : seen) EXPECT_EQ(line.front(), '[') << line;
}

TEST(ScanPorts, ParallelOneWalksThePortsOneAfterTheOther) {
  ProbeOptions base;
  base.host = "127.0.0.1";
  base.timeout = 2000ms;
  std::vector<std::string> tags;
  base.transcript = [&tags](const TranscriptLine& l) {
    tags.push_back(l.text.substr(0, l.text.find(']') + 1));
  };
  const std::vector<std::uint16_t> ports = {closed_port(), closed_port(), closed_port()};
  const ScanReport report = scan_ports(base, ports, 1);
  ASSERT_EQ(report.rows.size(), 3u);
  // Each port's lines form one block, in the order of the ports.
  std::vector<std::string> blocks;
  for (const std::string& t : tags)
    if (blocks.empty() || blocks.back() != t) blocks.push_back(t);
  std::vector<std::string> expected;
  for (std::uint16_t p : ports) expected.push_back("[" + std::to_string(p) + "]");
  EXPECT_EQ(blocks, expected);
}

}  // namespace
}  // namespace postern::probe
