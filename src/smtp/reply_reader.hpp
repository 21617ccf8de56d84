// Splits the server's byte stream into SMTP replies (RFC 5321 §4.2):
// "250-first", "250-second", "250 last". Bytes may arrive split anywhere;
// what is incomplete waits for more.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "smtp/client_session.hpp"

namespace postern::smtp::client {

// RFC 5321 §4.5.3.1.5 allows 512 octets per reply line; real servers send
// longer ones, so the bounds are generous but keep a hostile server from
// growing our memory without end.
inline constexpr std::size_t kMaxReplyLine = 8192;
inline constexpr std::size_t kMaxReplyLines = 256;

class ReplyReader {
 public:
  enum class Result { complete, incomplete, malformed };

  void append(std::string_view bytes) { buffer_.append(bytes); }
  // Takes the next complete reply out of the buffer. A line ends at LF (a
  // CR before it is dropped); every line must start with the same
  // three-digit code followed by '-', ' ' or nothing.
  Result next(ServerReply& out);
  void clear();
  std::size_t buffered() const { return buffer_.size(); }

 private:
  std::string buffer_;
};

}  // namespace postern::smtp::client
