// Receives the chunks of a CHUNKING transaction (RFC 3030): each BDAT
// command announces an exact octet count, and those octets are message
// content, whatever they contain — no dot-stuffing, no end marker, and
// nothing inside them may ever be read as a command.
//
// We do not offer BINARYMIME, so the content is text: bare CR and bare LF
// are stored as CRLF as they are for DATA (a CR at the end of one chunk may
// meet its LF at the start of the next), and the size limit applies to the
// stored form, as it does for DATA.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace postern::smtp {

class BdatReader {
 public:
  // Starts a chunk of `size` octets. With `discard` its content is read and
  // dropped (a chunk whose command was refused still has to be skipped,
  // RFC 3030 §3 — otherwise its bytes would be taken for commands).
  void begin_chunk(std::size_t size, bool last, bool discard);
  // Takes what belongs to the current chunk from `in`, appending it to
  // `body` while the whole message stays within `limit`; past the limit the
  // message is marked overflowed and its content dropped. Returns the
  // number of bytes used.
  std::size_t feed(std::string_view in, std::string& body, std::size_t limit);
  // After the LAST chunk: stores a CR that ended the message.
  void finish(std::string& body, std::size_t limit);

  bool chunk_done() const { return remaining_ == 0; }
  bool last() const { return last_; }
  bool discarding() const { return discard_; }
  bool overflowed() const { return overflowed_; }
  std::size_t chunk_size() const { return chunk_size_; }
  // Forgets the whole message (a new transaction).
  void reset() { *this = BdatReader{}; }

 private:
  std::size_t remaining_ = 0;
  std::size_t chunk_size_ = 0;
  bool last_ = false;
  bool discard_ = false;
  bool overflowed_ = false;
  bool pending_cr_ = false;  // the stored content so far ends in a CR
  void emit(std::string& body, std::string_view bytes, std::size_t limit);
};

}  // namespace postern::smtp
