#include "control/message_text.hpp"

#include <gtest/gtest.h>

namespace postern::control {
namespace {

using Strings = std::vector<std::string>;

TEST(HeaderSection, EndsAtTheEmptyLine) {
  const std::string m = "From: a\r\nSubject: x\r\n  folded\r\n\r\nDate: body\r\n";
  EXPECT_EQ(header_section_end(m), m.find("\r\n\r\n") + 2);
  EXPECT_TRUE(has_header(m, "subject"));
  EXPECT_FALSE(has_header(m, "Date"));  // only in the body
}

TEST(HeaderSection, NoneWhenContentIsBody) {
  EXPECT_EQ(header_section_end("hello world\r\nFrom: x\r\n"), 0u);
  EXPECT_EQ(header_section_end("\r\nFrom: x\r\n"), 0u);
  EXPECT_EQ(header_section_end(" From: x\r\n"), 0u);
  EXPECT_EQ(header_section_end(""), 0u);
  EXPECT_FALSE(has_header("hello\r\nDate: x\r\n", "Date"));
}

TEST(HeaderSection, NonFieldLineEndsIt) {
  const std::string m = "Subject: x\r\nnot a field\r\nDate: y\r\n";
  EXPECT_EQ(header_section_end(m), 12u);
  EXPECT_FALSE(has_header(m, "Date"));
}

TEST(HeaderSection, HeadersOnly) {
  const std::string m = "Subject: x\r\nTo: y\r\n";
  EXPECT_EQ(header_section_end(m), m.size());
  EXPECT_TRUE(has_header(m, "To"));
}

TEST(HeaderSection, ObsoleteBlankBeforeColon) {
  EXPECT_TRUE(has_header("Date : now\r\n\r\n", "date"));
}

TEST(HeaderValues, UnfoldsAndCollectsEveryField) {
  const std::string m =
      "To: a@x.test,\r\n b@x.test\r\nCc: c@x.test\r\nTO:d@x.test\r\n\r\nTo: body@x.test\r\n";
  EXPECT_EQ(header_values(m, "to"), (Strings{"a@x.test, b@x.test", "d@x.test"}));
  EXPECT_EQ(header_values(m, "Cc"), (Strings{"c@x.test"}));
  EXPECT_TRUE(header_values(m, "Bcc").empty());
}

TEST(RemoveHeader, TakesContinuationLinesAndLeavesTheBody) {
  const std::string m =
      "From: a\r\nBcc: x@y,\r\n\tz@w\r\nSubject: s\r\nbcc: q@r\r\n\r\nBcc: stays\r\n";
  EXPECT_EQ(remove_header(m, "Bcc"), "From: a\r\nSubject: s\r\n\r\nBcc: stays\r\n");
  EXPECT_EQ(remove_header(m, "Nope"), m);
}

TEST(AddressList, CommonForms) {
  EXPECT_EQ(parse_address_list("a@x.test"), (Strings{"a@x.test"}));
  EXPECT_EQ(parse_address_list(" a@x.test , b@x.test "), (Strings{"a@x.test", "b@x.test"}));
  EXPECT_EQ(parse_address_list("Alice <a@x.test>, \"Doe, John\" <j@x.test>"),
            (Strings{"a@x.test", "j@x.test"}));
  EXPECT_EQ(parse_address_list("a@x.test (Alice, the first), b@x.test"),
            (Strings{"a@x.test", "b@x.test"}));
  EXPECT_EQ(parse_address_list("team: a@x.test, B <b@x.test>;, c@x.test"),
            (Strings{"a@x.test", "b@x.test", "c@x.test"}));
  EXPECT_EQ(parse_address_list("undisclosed-recipients:;"), Strings{});
  EXPECT_EQ(parse_address_list("<@relay.test:a@x.test>"), (Strings{"a@x.test"}));
  EXPECT_EQ(parse_address_list("\"odd local\"@x.test"), (Strings{"\"odd local\"@x.test"}));
  EXPECT_EQ(parse_address_list(",,"), Strings{});
  EXPECT_EQ(parse_address_list("John Smith"), Strings{});
  EXPECT_EQ(parse_address_list("A <a@x.test> (c) , B<b@x.test>"),
            (Strings{"a@x.test", "b@x.test"}));
}

TEST(AddressList, UnbalancedInputEndsQuietly) {
  EXPECT_EQ(parse_address_list("<a@x.test"), (Strings{"a@x.test"}));
  EXPECT_EQ(parse_address_list("a@x.test (open comment"), (Strings{"a@x.test"}));
  EXPECT_EQ(parse_address_list("\"open quote <a@x.test>"), Strings{});
}

}  // namespace
}  // namespace postern::control
