// postern log summary: the line parser (three formats, quoted values, other
// programs' lines) and the counts the report is made of.
#include <gtest/gtest.h>

#include <random>

#include "logsum/log_record.hpp"
#include "logsum/summary.hpp"

namespace postern::logsum {
namespace {

TEST(LogRecord, StderrFormatWithOffset) {
  const auto r = parse_log_line(
      "2026-12-07T15:53:42.123+01:00 info queued id=0ABC session=S1 client=192.0.2.7 "
      "from=<a@example.org> nrcpt=2 size=312");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->date, "2026-12-07");
  EXPECT_EQ(r->hour, 15);
  EXPECT_EQ(r->level, "info");
  EXPECT_EQ(r->event, "queued");
  EXPECT_EQ(r->field("id"), "0ABC");
  EXPECT_EQ(r->field("client"), "192.0.2.7");
  EXPECT_EQ(strip_angles(r->field("from")), "a@example.org");
  EXPECT_EQ(r->field("size"), "312");
  EXPECT_EQ(r->field("missing"), "");
}

TEST(LogRecord, OldStderrFormatWithoutOffset) {
  const auto r = parse_log_line(
      "2026-12-07T04:00:00.000 warning auth session=S client=::1 "
      "result=failed");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->hour, 4);
  EXPECT_EQ(r->field("client"), "::1");
}

TEST(LogRecord, ClassicSyslog) {
  const auto r = parse_log_line(
      "Dec  7 09:05:01 mail postern[812]: deferred id=X to=<b@example.com> attempts=1 "
      "reason=\"451 4.3.0 try later\"");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->date, "Dec 7");
  EXPECT_EQ(r->hour, 9);
  EXPECT_EQ(r->level, "");
  EXPECT_EQ(r->event, "deferred");
  EXPECT_EQ(r->field("reason"), "451 4.3.0 try later");
}

TEST(LogRecord, RsyslogHighPrecision) {
  const auto r =
      parse_log_line("2026-12-07T23:59:59.999999+00:00 mail postern: delivered id=X to=<b@x>");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->hour, 23);
  EXPECT_EQ(r->event, "delivered");
}

TEST(LogRecord, JournalctlShortIsoAroundOurOwnStamp) {
  const auto r = parse_log_line(
      "2026-12-07T16:20:01+0100 mail postern[812]: 2026-12-07T16:20:01.123+01:00 warning auth "
      "session=S client=192.0.2.7 result=failed");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->level, "warning");
  EXPECT_EQ(r->event, "auth");
  EXPECT_EQ(r->field("client"), "192.0.2.7");
}

TEST(LogRecord, OtherProgramsAndNoiseAreNotOurs) {
  EXPECT_FALSE(parse_log_line("Dec  7 09:05:01 mail postfix/smtpd[1]: connect from x"));
  EXPECT_FALSE(parse_log_line("=== harness: start #1 ==="));
  EXPECT_FALSE(parse_log_line("postern serve: configuration: --config x"));
  EXPECT_FALSE(parse_log_line(""));
  EXPECT_FALSE(parse_log_line("2026-12-07T15:53:42.123+01:00 info NotAnEvent x=1"));
  EXPECT_FALSE(parse_log_line("2026-12-07T25:53:42 info queued"));
}

TEST(LogRecord, QuotedValuesEscapedOrNot) {
  // The session escapes inner quotes; the queue runner only cleans control
  // bytes, so a quote inside a reply arrives bare.
  const auto r = parse_log_line(
      "2026-12-07T10:00:00.000+00:00 warning failed id=X to=<b@x> reply=\"550 say \\\"no\\\"\" "
      "bounce=<a@y>");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->field("reply"), "550 say \"no\"");
  EXPECT_EQ(r->field("bounce"), "<a@y>");
  const auto bare = parse_log_line(
      "2026-12-07T10:00:00.000+00:00 warning failed id=X reply=\"550 a\"b c\" bounce=<a@y>");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->field("reply"), "550 a\"b c");
  EXPECT_EQ(bare->field("bounce"), "<a@y>");
  const auto unterminated =
      parse_log_line("2026-12-07T10:00:00.000+00:00 info x reason=\"never ends");
  ASSERT_TRUE(unterminated);
  EXPECT_EQ(unterminated->field("reason"), "never ends");
}

constexpr std::string_view kLog =
    "=== harness: start #1 ===\n"
    "2026-12-07T10:01:00.000+00:00 info connect session=S1 client=192.0.2.7:5000 listener=x\n"
    "2026-12-07T10:01:01.000+00:00 info queued id=Q1 session=S1 client=192.0.2.7 "
    "from=<a@example.org> nrcpt=2 size=1000\n"
    "2026-12-07T10:01:02.000+00:00 info delivered id=Q1 to=<x@example.com> mailbox=/m "
    "reply=\"250 ok\"\n"
    "2026-12-07T10:01:02.000+00:00 info deferred id=Q1 to=<y@example.com> attempts=1 "
    "reason=\"451 4.2.0 mailbox busy\"\n"
    "2026-12-07T11:01:02.000+00:00 info deferred id=Q1 to=<y@example.com> attempts=2 "
    "reason=\"451 4.2.0 mailbox busy\"\n"
    "2026-12-07T11:30:00.000+00:00 warning failed id=Q1 to=<y@example.com> reply=\"550 5.1.1 "
    "no such user\" bounce=<a@example.org>\n"
    "2026-12-07T11:31:00.000+00:00 info queued id=Q2 session=S2 client=192.0.2.8 from=<> "
    "nrcpt=1 size=500\n"
    "2026-12-07T11:31:00.000+00:00 info queued id=Q3 origin=sendmail uid=0 "
    "from=<a@example.org> nrcpt=1 size=3000\n"
    "2026-12-07T11:31:01.000+00:00 info delivered id=Q3 to=<x@example.com> mailbox=/m "
    "reply=\"250 ok\"\n"
    "2026-12-07T12:00:00.000+00:00 info reject session=S3 client=198.51.100.1 cmd=RCPT "
    "from=\"<s@spam.example>\" to=\"<v@victim.example>\" reply=\"554 5.7.1 <v@victim.example>: "
    "Relay access denied\"\n"
    "2026-12-07T12:00:01.000+00:00 warning auth session=S4 client=198.51.100.1 result=failed "
    "method=PLAIN user=\"alice@example.com\" reason=\"invalid credentials\"\n"
    "2026-12-07T12:00:02.000+00:00 warning auth session=S5 client=198.51.100.1 result=failed "
    "method=LOGIN user=\"bob@example.com\" reason=\"invalid credentials\"\n"
    "2026-12-07T12:00:03.000+00:00 warning auth session=S6 client=203.0.113.9 result=failed "
    "method=PLAIN user=\"bob@example.com\" reason=\"invalid credentials\"\n"
    "2026-12-07T12:00:04.000+00:00 info auth session=S7 client=192.0.2.7 result=ok "
    "method=PLAIN user=\"alice@example.com\"\n";

TEST(Summary, CountsWhatTheLogSays) {
  SummaryBuilder b;
  b.add_text(kLog);
  const Summary& s = b.summary();
  EXPECT_EQ(s.other_lines, 1u);
  EXPECT_EQ(s.received, 3u);
  EXPECT_EQ(s.bytes_received, 4500u);
  EXPECT_EQ(s.delivered, 2u);
  EXPECT_EQ(s.bytes_delivered, 4000u);  // Q1 (1000) and Q3 (3000)
  EXPECT_EQ(s.deferrals, 2u);
  EXPECT_EQ(s.deferred_messages, 1u);
  EXPECT_EQ(s.bounced, 1u);
  EXPECT_EQ(s.rejected, 1u);
  EXPECT_EQ(s.auth_failures, 3u);
  EXPECT_EQ(s.connections, 1u);
  EXPECT_EQ(s.senders.at("a@example.org").count, 2u);
  EXPECT_EQ(s.senders.at("a@example.org").bytes, 4000u);
  EXPECT_EQ(s.senders.at("<>").count, 1u);
  EXPECT_EQ(s.recipients.at("x@example.com").count, 2u);
  EXPECT_EQ(s.deferral_reasons.at("451 4.2.0 mailbox busy"), 2u);
  EXPECT_EQ(s.bounce_reasons.at("550 5.1.1 no such user"), 1u);
  EXPECT_EQ(s.auth_failures_by_client.at("198.51.100.1"), 2u);
  EXPECT_EQ(s.auth_failures_by_client.at("203.0.113.9"), 1u);
  EXPECT_EQ(s.per_hour[10].received, 1u);
  EXPECT_EQ(s.per_hour[11].received, 2u);
  EXPECT_EQ(s.per_hour[10].deferred, 1u);
  EXPECT_EQ(s.per_hour[11].bounced, 1u);
  EXPECT_EQ(s.per_hour[12].rejected, 1u);
  EXPECT_EQ(s.first_date, "2026-12-07");
}

TEST(Summary, ReportNamesEverySection) {
  const std::string report = summarize(kLog);
  for (const char* section :
       {"Grand totals", "Per-hour traffic", "Senders by message count", "Senders by message size",
        "Recipients by message count", "Recipients by message size", "Message deferral detail",
        "Message bounce detail", "Message reject detail", "AUTH failures by client"}) {
    EXPECT_NE(report.find(section), std::string::npos) << section;
  }
  EXPECT_NE(report.find("       3   received"), std::string::npos) << report;
  EXPECT_NE(report.find("       2   198.51.100.1"), std::string::npos) << report;
  // By size, a@example.org (4000 bytes) comes before <> (500).
  const auto by_size = report.find("Senders by message size");
  EXPECT_LT(report.find("a@example.org", by_size), report.find("<>", by_size));
}

TEST(Summary, TopLimitsRows) {
  SummaryBuilder b;
  for (int i = 0; i < 30; ++i) {
    b.add_line("2026-12-07T10:00:00.000+00:00 info queued id=Q" + std::to_string(i) + " from=<s" +
               std::to_string(i) + "@x> size=1");
  }
  RenderOptions o;
  o.top = 3;
  const std::string report = render_summary(b.summary(), o);
  const auto start = report.find("Senders by message count");
  const auto end = report.find("Senders by message size");
  const std::string table = report.substr(start, end - start);
  EXPECT_EQ(std::count(table.begin(), table.end(), '@'), 3) << table;
}

TEST(Summary, EmptyAndForeignInputSaySo) {
  EXPECT_NE(summarize("").find("No postern log lines found"), std::string::npos);
  EXPECT_NE(summarize("hello\nworld\n").find("2 other lines"), std::string::npos);
}

TEST(Summary, ControlBytesNeverReachTheTerminal) {
  const std::string report =
      summarize("2026-12-07T10:00:00.000+00:00 info queued id=Q from=<a\x1b[2J@x> size=1\n");
  EXPECT_EQ(report.find('\x1b'), std::string::npos);
}

// What the fuzz target (tests/fuzz/log_summary_fuzz.cpp) does, here with a fixed
// seed: random bytes, and lines of the log cut at every position, never
// crash and always give a report.
TEST(Summary, AnyBytesGiveAReport) {
  std::mt19937 rng(18);
  for (int round = 0; round < 300; ++round) {
    std::string junk(static_cast<std::size_t>(rng() % 400), '\0');
    for (char& c : junk) c = static_cast<char>(rng() % 256);
    EXPECT_NE(summarize(junk).find("Grand totals"), std::string::npos);
  }
  for (std::size_t cut = 0; cut <= kLog.size(); ++cut) {
    EXPECT_FALSE(summarize(kLog.substr(0, cut)).empty());
    EXPECT_FALSE(summarize(kLog.substr(cut)).empty());
  }
}

}  // namespace
}  // namespace postern::logsum
