// The header work on accepted messages: the Received header (RFC 5321
// §4.4) and its folding (RFC 5322 §2.2.3), the protocol names of RFC 3848,
// the date format (RFC 5322 §3.3), header detection, and Date/Message-ID
// for submission (RFC 6409 §8).
#include <gtest/gtest.h>

#include "message/date.hpp"
#include "message/header_section.hpp"
#include "message/received_header.hpp"
#include "message/submission_headers.hpp"

namespace postern::message {
namespace {

const auto kWhen = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));

ReceivedInfo info() {
  ReceivedInfo r;
  r.helo = "client.example";
  r.client_ip = "192.0.2.7";
  r.hostname = "mx.example.com";
  r.protocol = "ESMTPSA";
  r.id = "S1";
  r.listener = "127.0.0.1:2587";
  r.role = "submission";
  r.tls_version = "TLSv1.3";
  r.tls_cipher = "TLS_AES_128_GCM_SHA256";
  r.auth_user = "alice@example.com";
  r.for_recipient = "bob@example.org";
  r.when = kWhen;
  return r;
}

// A well-formed header field: first line "Name: ...", every further line
// folded (starts with WSP), every line ends in CRLF and is short.
void expect_well_formed(const std::string& h) {
  ASSERT_TRUE(h.starts_with("Received: ")) << h;
  ASSERT_TRUE(h.ends_with("\r\n")) << h;
  std::size_t pos = 0;
  bool first = true;
  while (pos < h.size()) {
    const auto eol = h.find("\r\n", pos);
    ASSERT_NE(eol, std::string::npos);
    const std::string line = h.substr(pos, eol - pos);
    EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos) << line;
    EXPECT_LE(line.size(), 998u);
    if (!first) {
      ASSERT_FALSE(line.empty());
      EXPECT_TRUE(line[0] == '\t' || line[0] == ' ') << "not folded: \"" << line << "\"";
    }
    first = false;
    pos = eol + 2;
  }
}

TEST(Rfc5322Date, Format) {
  EXPECT_EQ(rfc5322_date(kWhen), "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(rfc5322_date(std::chrono::system_clock::time_point{}),
            "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST(ReceivedHeader, Content) {
  const std::string h = received_header(info());
  expect_well_formed(h);
  EXPECT_TRUE(h.starts_with("Received: from client.example ([192.0.2.7])\r\n")) << h;
  EXPECT_NE(h.find("by mx.example.com (postern) with ESMTPSA id S1"), std::string::npos) << h;
  EXPECT_NE(h.find("listener 127.0.0.1:2587 role submission"), std::string::npos) << h;
  EXPECT_NE(h.find("TLSv1.3 cipher TLS_AES_128_GCM_SHA256"), std::string::npos) << h;
  EXPECT_NE(h.find("authenticated user alice@example.com"), std::string::npos) << h;
  EXPECT_NE(h.find("for <bob@example.org>; Tue, 14 Nov 2023 22:13:20 +0000\r\n"), std::string::npos)
      << h;
}

TEST(ReceivedHeader, WithoutTlsAuthOrSingleRecipient) {
  auto r = info();
  r.tls_version.clear();
  r.tls_cipher.clear();
  r.auth_user.clear();
  r.for_recipient.clear();
  r.protocol = "ESMTP";
  const std::string h = received_header(r);
  expect_well_formed(h);
  EXPECT_EQ(h.find("cipher"), std::string::npos);
  EXPECT_EQ(h.find("authenticated"), std::string::npos);
  EXPECT_EQ(h.find("for <"), std::string::npos);
  EXPECT_TRUE(h.ends_with("; Tue, 14 Nov 2023 22:13:20 +0000\r\n")) << h;
}

TEST(ReceivedHeader, ClientTextCannotBreakTheHeader) {
  auto r = info();
  r.helo = "evil\r\nBcc: victim@example.com (x)";
  r.auth_user = "a\r\nX: y";
  r.for_recipient = "b\nZ: w";
  const std::string h = received_header(r);
  expect_well_formed(h);
  EXPECT_EQ(h.find("(x)"), std::string::npos);
  r.helo = "";
  EXPECT_TRUE(received_header(r).starts_with("Received: from unknown ([192.0.2.7])"));
  r.helo = std::string(5000, 'h');
  expect_well_formed(received_header(r));
}

TEST(HasHeader, CaseInsensitiveAndOnlyInTheHeaderSection) {
  EXPECT_TRUE(has_header("Subject: x\r\nDate: y\r\n\r\nbody\r\n", "Date"));
  EXPECT_TRUE(has_header("subject: x\r\nDATE: y\r\n\r\n", "date"));
  EXPECT_TRUE(has_header("MESSAGE-id: <x@y>\r\n", "Message-ID"));
  EXPECT_TRUE(has_header("Subject: x\nDate: y\n\nbody\n", "Date"));
  EXPECT_FALSE(has_header("Subject: x\r\n\r\nDate: y\r\n", "Date"));
  EXPECT_FALSE(has_header("Subject: x\r\n Date: folded\r\n\r\n", "Date"));
  EXPECT_FALSE(has_header("Dates: x\r\nDate\r\nX-Date: y\r\n\r\n", "Date"));
  EXPECT_TRUE(has_header("Date : obsolete form\r\n\r\n", "Date"));
  EXPECT_FALSE(has_header("", "Date"));
  EXPECT_FALSE(has_header("\r\nDate: y\r\n", "Date"));
  EXPECT_FALSE(has_header("just text\r\nDate: y\r\n\r\n", "Date"));
  EXPECT_TRUE(has_header("Date: y", "Date"));
}

TEST(HasHeader, StartsWithHeaderField) {
  EXPECT_TRUE(starts_with_header_field("Subject: x\r\n"));
  EXPECT_FALSE(starts_with_header_field("\r\nbody\r\n"));
  EXPECT_FALSE(starts_with_header_field("just text\r\n"));
  EXPECT_FALSE(starts_with_header_field(""));
}

TEST(ProtocolName, Rfc3848) {
  EXPECT_EQ(protocol_name(false, false, false), "SMTP");
  EXPECT_EQ(protocol_name(false, true, true), "SMTP");
  EXPECT_EQ(protocol_name(true, false, false), "ESMTP");
  EXPECT_EQ(protocol_name(true, true, false), "ESMTPS");
  EXPECT_EQ(protocol_name(true, false, true), "ESMTPA");
  EXPECT_EQ(protocol_name(true, true, true), "ESMTPSA");
}

TEST(SubmissionHeaders, OnlyWhatIsMissing) {
  const std::string date = "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n";
  const std::string id = "Message-ID: <S1.2.1700000000@mx.example.com>\r\n";
  EXPECT_EQ(date_header(kWhen), date);
  EXPECT_EQ(message_id_header("S1", 2, kWhen, "mx.example.com"), id);
  EXPECT_EQ(missing_submission_headers("Subject: x\r\n\r\nb\r\n", "S1", 2, kWhen, "mx.example.com"),
            date + id);
  EXPECT_EQ(missing_submission_headers("DATE: x\r\nmessage-id: <a@b>\r\n\r\n", "S1", 2, kWhen,
                                       "mx.example.com"),
            "");
  EXPECT_EQ(missing_submission_headers("Date: x\r\n\r\nMessage-ID: <in body>\r\n", "S1", 2, kWhen,
                                       "mx.example.com"),
            id);
}

}  // namespace
}  // namespace postern::message
