// BDAT chunks (RFC 3030): counted octets, no dot-stuffing, bare line ends
// stored as CRLF across chunk boundaries, the size limit on the stored
// form, and skipped chunks — each fed whole, byte by byte and split at
// every position.
#include "smtp/bdat_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postern::smtp {
namespace {

struct Chunk {
  std::string bytes;
  bool last = false;
  bool discard = false;
};

struct Result {
  std::string body;
  bool overflowed = false;
  std::string rest;  // input left over after the last chunk
  bool operator==(const Result&) const = default;
};

// Feeds the chunks' bytes (plus `trailer`) in pieces of at most `piece`
// bytes, as a session would.
Result read(const std::vector<Chunk>& chunks, std::size_t limit, std::size_t piece,
            const std::string& trailer = "") {
  std::string stream;
  for (const auto& c : chunks) stream += c.bytes;
  stream += trailer;
  BdatReader r;
  std::string body;
  std::string pending;
  std::size_t pos = 0;
  for (const auto& c : chunks) {
    r.begin_chunk(c.bytes.size(), c.last, c.discard);
    while (!r.chunk_done()) {
      if (pending.empty()) {
        pending = stream.substr(pos, piece);
        pos += pending.size();
      }
      pending.erase(0, r.feed(pending, body, limit));
    }
    if (c.last) r.finish(body, limit);
  }
  return Result{body, r.overflowed(), pending + stream.substr(pos)};
}

Result read_everywhere(const std::vector<Chunk>& chunks, std::size_t limit,
                       const std::string& trailer = "") {
  std::size_t total = trailer.size();
  for (const auto& c : chunks) total += c.bytes.size();
  const Result whole = read(chunks, limit, total + 1, trailer);
  for (std::size_t piece = 1; piece <= total; ++piece) {
    EXPECT_EQ(read(chunks, limit, piece, trailer), whole) << "pieces of " << piece;
  }
  return whole;
}

TEST(BdatReader, ContentIsTakenAsIs) {
  const auto r = read_everywhere({{"Subject: x\r\n\r\n.\r\nQUIT\r\n", false}, {".dot\r\n", true}},
                                 1000, "NOOP\r\n");
  EXPECT_EQ(r.body, "Subject: x\r\n\r\n.\r\nQUIT\r\n.dot\r\n");
  EXPECT_FALSE(r.overflowed);
  EXPECT_EQ(r.rest, "NOOP\r\n");  // nothing after the chunk is taken
}

TEST(BdatReader, BareLineEndsBecomeCrlfAcrossChunks) {
  EXPECT_EQ(read_everywhere({{"a\nb\r", false}, {"\nc\r", false}, {"d\r", true}}, 1000).body,
            "a\r\nb\r\nc\r\nd\r\n");
  EXPECT_EQ(read_everywhere({{"\r\r\n\n", true}}, 1000).body, "\r\n\r\n\r\n");
}

TEST(BdatReader, LimitOnTheStoredFormAtTheLimitAndOneOver) {
  auto r = read_everywhere({{"12345678\r\n", true}}, 10);
  EXPECT_FALSE(r.overflowed);
  EXPECT_EQ(r.body, "12345678\r\n");
  r = read_everywhere({{"123456789\r\n", true}}, 10);
  EXPECT_TRUE(r.overflowed);
  EXPECT_EQ(r.body, "");
  // Nine octets received, ten stored: at the limit.
  r = read_everywhere({{"12345678\n", true}}, 10);
  EXPECT_FALSE(r.overflowed);
  // A trailing CR counts as the CRLF it is stored as.
  r = read_everywhere({{"123456789\r", true}}, 10);
  EXPECT_TRUE(r.overflowed);
  // Over the limit over several chunks: nothing is kept, all is consumed.
  r = read_everywhere({{"123456", false}, {"789012", true}}, 10, "NOOP");
  EXPECT_TRUE(r.overflowed);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.rest, "NOOP");
}

TEST(BdatReader, DiscardedChunkIsConsumedNotStored) {
  const auto r = read_everywhere({{"MAIL FROM:<x@y>\r\n", false, true}}, 1000, "RSET\r\n");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.rest, "RSET\r\n");
}

TEST(BdatReader, EmptyLastChunk) {
  BdatReader r;
  std::string body = "x\r\n";
  r.begin_chunk(0, true, false);
  EXPECT_TRUE(r.chunk_done());
  EXPECT_TRUE(r.last());
  r.finish(body, 100);
  EXPECT_EQ(body, "x\r\n");
}

}  // namespace
}  // namespace postern::smtp
