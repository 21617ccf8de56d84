// recommend(): the guides' order over hand-made rows, every branch.
#include <gtest/gtest.h>

#include "probe/port_scan.hpp"

namespace postern::probe {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// A port that answered with `found` and, when `version` is set, finished the
// handshake; `d` at `stage` is where the walk stopped (ok: it did not).
PortRow answered(std::uint16_t port, TlsFound found, const char* version,
                 Diagnosis d = Diagnosis::ok, Stage stage = Stage::dns) {
  PortRow row;
  row.port = port;
  row.result.port = port;
  row.result.steps = {{Stage::dns, true, 1ms, "127.0.0.1"}, {Stage::connect, true, 1ms, ""}};
  row.result.tls_found = found;
  row.result.tls_version = version;
  row.result.diagnosis = d;
  row.result.failed_stage = stage;
  if (d != Diagnosis::ok) row.result.explanation = "explained " + std::string(to_string(d));
  row.reachable = reachable(row.result);
  return row;
}

PortRow closed(std::uint16_t port, Diagnosis d = Diagnosis::connect_refused) {
  PortRow row;
  row.port = port;
  row.result.port = port;
  row.result.steps = {{Stage::dns, true, 1ms, "127.0.0.1"}, {Stage::connect, false, 1ms, ""}};
  row.result.diagnosis = d;
  row.result.failed_stage = Stage::connect;
  row.result.explanation = "explained " + std::string(to_string(d));
  row.reachable = reachable(row.result);
  return row;
}

PortRow starttls(std::uint16_t port) {
  return answered(port, TlsFound::starttls, "TLSv1.3");
}
PortRow implicit(std::uint16_t port) {
  return answered(port, TlsFound::implicit, "TLSv1.3");
}

TEST(Recommend, Prefers587WithStarttls) {
  const Recommendation r = recommend({starttls(587), implicit(465), starttls(2525), starttls(25)});
  ASSERT_TRUE(r.port);
  EXPECT_EQ(*r.port, 587);
  EXPECT_EQ(r.tls, TlsChoice::starttls);
  EXPECT_TRUE(contains(r.reason, "standard submission port")) << r.reason;
  EXPECT_TRUE(contains(r.reason, "TLSv1.3")) << r.reason;
  EXPECT_EQ(r.relay_port, std::optional<std::uint16_t>(25));
}

TEST(Recommend, Implicit465WhenOnlyImplicitWorks) {
  const Recommendation r = recommend({closed(587), implicit(465), closed(2525), closed(25)});
  ASSERT_TRUE(r.port);
  EXPECT_EQ(*r.port, 465);
  EXPECT_EQ(r.tls, TlsChoice::implicit);
  EXPECT_TRUE(contains(r.reason, "implicit TLS")) << r.reason;
  EXPECT_TRUE(contains(r.reason, "587: connect_refused")) << r.reason;
  EXPECT_FALSE(r.relay_port);
}

TEST(Recommend, Port2525When587IsBlocked) {
  const Recommendation r = recommend({closed(587, Diagnosis::connect_timeout), closed(465),
                                      starttls(2525), closed(25, Diagnosis::connect_timeout)});
  ASSERT_TRUE(r.port);
  EXPECT_EQ(*r.port, 2525);
  EXPECT_EQ(r.tls, TlsChoice::starttls);
  EXPECT_TRUE(contains(r.reason, "587 is blocked")) << r.reason;
  EXPECT_TRUE(contains(r.reason, "587: connect_timeout")) << r.reason;
}

TEST(Recommend, Implicit465BeatsTheNonStandard2525) {
  const Recommendation r = recommend({closed(587), starttls(2525), implicit(465)});
  ASSERT_TRUE(r.port);
  EXPECT_EQ(*r.port, 465);
}

TEST(Recommend, PlaintextOnly587IsNotRecommended) {
  // --tls auto without credentials: the walk "works" in plaintext.
  const Recommendation r = recommend({answered(587, TlsFound::plaintext, ""), closed(465)});
  EXPECT_FALSE(r.port);
  EXPECT_TRUE(contains(r.reason, "587 answers but offers no STARTTLS")) << r.reason;
}

TEST(Recommend, Starttls2525BeatsPlaintext587) {
  const Recommendation r = recommend({answered(587, TlsFound::plaintext, ""), starttls(2525)});
  ASSERT_TRUE(r.port);
  EXPECT_EQ(*r.port, 2525);
  EXPECT_TRUE(contains(r.reason, "587: plaintext only")) << r.reason;
}

TEST(Recommend, Only25IsForRelayNotSubmission) {
  const Recommendation r = recommend({closed(587), closed(465), closed(2525), starttls(25)});
  EXPECT_FALSE(r.port);
  EXPECT_EQ(r.relay_port, std::optional<std::uint16_t>(25));
  EXPECT_TRUE(contains(r.reason, "server-to-server relay")) << r.reason;
  EXPECT_TRUE(contains(r.reason, "MTA to MTA")) << r.reason;
  EXPECT_TRUE(contains(r.reason, "blocked by most ISPs and clouds")) << r.reason;
}

TEST(Recommend, NothingOpenNamesTheMostAdvancedFailure) {
  const Recommendation r =
      recommend({closed(587, Diagnosis::connect_timeout),
                 answered(465, TlsFound::unknown, "", Diagnosis::tls_handshake_failed, Stage::tls),
                 closed(2525), closed(25)});
  EXPECT_FALSE(r.port);
  EXPECT_FALSE(r.relay_port);
  EXPECT_TRUE(contains(r.reason, "No port is usable")) << r.reason;
  EXPECT_TRUE(contains(r.reason, "465 tls_handshake_failed at tls")) << r.reason;
  EXPECT_TRUE(contains(r.reason, "explained tls_handshake_failed")) << r.reason;
}

TEST(Recommend, CertificateProblemStillRecommendsButSaysSo) {
  const Recommendation r =
      recommend({answered(587, TlsFound::starttls, "TLSv1.3", Diagnosis::certificate_self_signed,
                          Stage::certificate),
                 implicit(465)});
  ASSERT_TRUE(r.port);
  EXPECT_EQ(*r.port, 587);
  EXPECT_TRUE(contains(r.reason, "certificate is not accepted (certificate_self_signed)"))
      << r.reason;
}

TEST(Recommend, AuthProblemStillRecommendsButSaysSo) {
  const Recommendation r = recommend(
      {answered(587, TlsFound::starttls, "TLSv1.3", Diagnosis::auth_failed, Stage::auth)});
  ASSERT_TRUE(r.port);
  EXPECT_EQ(*r.port, 587);
  EXPECT_TRUE(contains(r.reason, "AUTH did not work (auth_failed)")) << r.reason;
}

TEST(Recommend, StarttlsOfferedButHandshakeFailedIsNotUsable) {
  const Recommendation r =
      recommend({answered(587, TlsFound::starttls, "", Diagnosis::tls_handshake_failed, Stage::tls),
                 closed(465)});
  EXPECT_FALSE(r.port);
  EXPECT_TRUE(contains(r.reason, "587 tls_handshake_failed at tls")) << r.reason;
}

TEST(Recommend, SilentPortIsNotReachable) {
  PortRow silent = answered(587, TlsFound::unknown, "", Diagnosis::banner_timeout, Stage::banner);
  EXPECT_FALSE(silent.reachable);
  PortRow busy = answered(587, TlsFound::unknown, "", Diagnosis::server_busy, Stage::banner);
  EXPECT_TRUE(busy.reachable);
  EXPECT_FALSE(recommend({busy}).port);
}

TEST(Recommend, PresetPortsLike2587Count) {
  const Recommendation r = recommend({closed(587), starttls(2587), implicit(2465)});
  ASSERT_TRUE(r.port);
  EXPECT_EQ(*r.port, 2587);  // first listed among the equals
}

TEST(Recommend, EmptyRows) {
  const Recommendation r = recommend({});
  EXPECT_FALSE(r.port);
  EXPECT_FALSE(r.reason.empty());
}

TEST(ScanExitStatus, ZeroWithARecommendationElseTheMostAdvancedFailure) {
  ScanReport ok;
  ok.rows = {starttls(587)};
  ok.recommendation = recommend(ok.rows);
  EXPECT_EQ(exit_status(ok), 0);

  ScanReport refused;
  refused.rows = {closed(587), closed(465)};
  refused.recommendation = recommend(refused.rows);
  EXPECT_EQ(exit_status(refused), 4);

  ScanReport handshake;
  handshake.rows = {closed(587), answered(465, TlsFound::unknown, "",
                                          Diagnosis::tls_handshake_failed, Stage::tls)};
  handshake.recommendation = recommend(handshake.rows);
  EXPECT_EQ(exit_status(handshake), 6);

  ScanReport untrusted;
  untrusted.rows = {answered(587, TlsFound::starttls, "TLSv1.3", Diagnosis::certificate_untrusted,
                             Stage::certificate)};
  untrusted.recommendation = recommend(untrusted.rows);
  ASSERT_TRUE(untrusted.recommendation.port);
  EXPECT_EQ(exit_status(untrusted), 6);

  ScanReport relay_only;
  relay_only.rows = {closed(587), starttls(25)};
  relay_only.recommendation = recommend(relay_only.rows);
  EXPECT_EQ(exit_status(relay_only), 4);

  ScanReport plaintext;
  plaintext.rows = {answered(587, TlsFound::plaintext, "")};
  plaintext.recommendation = recommend(plaintext.rows);
  EXPECT_EQ(exit_status(plaintext), 6);
}

}  // namespace
}  // namespace postern::probe
