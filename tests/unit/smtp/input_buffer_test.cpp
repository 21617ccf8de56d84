// Command-line splitting (RFC 5321 §2.3.8) and its bound (§4.5.3.1.4,
// kMaxCommandLine), every case also fed split at every byte position and
// one byte at a time (STYLE habit 13).
#include "smtp/input_buffer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postern::smtp {
namespace {

using R = InputBuffer::LineResult;

// Lines as "L:<text>" and over-long lines as "TOO LONG", after feeding
// `chunks` one after the other and taking out what is complete each time.
std::vector<std::string> lines_of(const std::vector<std::string>& chunks, std::size_t max_line,
                                  std::size_t* max_buffered = nullptr) {
  InputBuffer in(max_line);
  std::vector<std::string> out;
  std::string line;
  for (const auto& c : chunks) {
    in.append(c);
    for (;;) {
      const R r = in.next_line(line);
      if (r == R::incomplete) break;
      out.push_back(r == R::line ? "L:" + line : "TOO LONG");
    }
    if (max_buffered) *max_buffered = std::max(*max_buffered, in.size());
  }
  return out;
}

// The same result whole, one byte at a time and split at every position.
std::vector<std::string> lines_everywhere(const std::string& input, std::size_t max_line) {
  const auto whole = lines_of({input}, max_line);
  std::vector<std::string> bytes;
  for (char c : input) bytes.emplace_back(1, c);
  EXPECT_EQ(lines_of(bytes, max_line), whole) << "one byte at a time";
  for (std::size_t cut = 1; cut < input.size(); ++cut) {
    EXPECT_EQ(lines_of({input.substr(0, cut), input.substr(cut)}, max_line), whole)
        << "split at " << cut;
  }
  return whole;
}

TEST(InputBuffer, CrlfAndBareLf) {
  EXPECT_EQ(lines_everywhere("EHLO a\r\nNOOP\nQUIT\r\n", 100),
            (std::vector<std::string>{"L:EHLO a", "L:NOOP", "L:QUIT"}));
}

TEST(InputBuffer, IncompleteLineWaits) {
  EXPECT_EQ(lines_everywhere("NOOP\r\nQUI", 100), (std::vector<std::string>{"L:NOOP"}));
  EXPECT_EQ(lines_everywhere("NOOP\r", 100), (std::vector<std::string>{}));
}

TEST(InputBuffer, BareCrInsideALineIsKept) {
  EXPECT_EQ(lines_everywhere("NO\rOP\r\n", 100), (std::vector<std::string>{"L:NO\rOP"}));
}

TEST(InputBuffer, EmptyLines) {
  EXPECT_EQ(lines_everywhere("\r\n\n", 100), (std::vector<std::string>{"L:", "L:"}));
}

TEST(InputBuffer, LineAtTheLimitAndOneOver) {
  const std::string at(10, 'a');
  const std::string over(11, 'b');
  EXPECT_EQ(lines_everywhere(at + "\r\nNOOP\r\n", 10),
            (std::vector<std::string>{"L:" + at, "L:NOOP"}));
  EXPECT_EQ(lines_everywhere(at + "\nNOOP\n", 10), (std::vector<std::string>{"L:" + at, "L:NOOP"}));
  EXPECT_EQ(lines_everywhere(over + "\r\nNOOP\r\n", 10),
            (std::vector<std::string>{"TOO LONG", "L:NOOP"}));
}

TEST(InputBuffer, EndlessLineIsReportedOnceAndNeverHeld) {
  std::vector<std::string> chunks(1000, std::string(7, 'x'));
  chunks.push_back("\r\nNOOP\r\n");
  std::size_t max_buffered = 0;
  EXPECT_EQ(lines_of(chunks, 10, &max_buffered), (std::vector<std::string>{"TOO LONG", "L:NOOP"}));
  EXPECT_LE(max_buffered, 11u);
}

TEST(InputBuffer, ClearForgetsAPartialLongLine) {
  InputBuffer in(4);
  std::string line;
  in.append("xxxxxxxx");
  EXPECT_EQ(in.next_line(line), R::too_long);
  in.clear();  // e.g. STARTTLS: the rest of the old line is gone too
  in.append("NOOP\r\n");
  EXPECT_EQ(in.next_line(line), R::line);
  EXPECT_EQ(line, "NOOP");
}

TEST(InputBuffer, ConsumeAndWipe) {
  InputBuffer in(100);
  in.append("AHNlY3JldA==\r\nREST");
  std::string line;
  ASSERT_EQ(in.next_line(line), R::line);
  in.wipe_consumed();
  EXPECT_EQ(in.view(), "REST");
  in.consume(2);
  EXPECT_EQ(in.view(), "ST");
  in.append("X");
  EXPECT_EQ(in.view(), "STX");
  in.consume(100);
  EXPECT_TRUE(in.empty());
}

}  // namespace
}  // namespace postern::smtp
