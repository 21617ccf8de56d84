// Canonicalisation (RFC 6376 §3.4): the "simple" and "relaxed" forms of
// header fields and of the body, which are what gets hashed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace postern::mailauth::dkim {

enum class Canon { simple, relaxed };

// One header field in canonical form, with its trailing CRLF (§3.4.1,
// §3.4.2). `field` is the whole field as in the message, name included.
void canonicalize_header(Canon canon, std::string_view field, std::string& out);

// Streams the body through the canonicalisation (§3.4.3, §3.4.4) into a
// sink, without holding it: trailing empty lines are counted, not stored,
// and written only when content follows them. `limit` is the l= length
// (§3.5): octets past it are not passed on.
class BodyCanonicalizer {
 public:
  using Sink = std::function<void(std::string_view)>;
  BodyCanonicalizer(Canon canon, Sink sink, std::optional<std::uint64_t> limit = std::nullopt);
  void update(std::string_view bytes);
  void finish();
  // Canonical octets produced so far (those past `limit` included).
  std::uint64_t length() const { return length_; }

 private:
  bool at_line_start() const { return !in_line_ && !pending_wsp_ && !pending_cr_; }
  // Whether a whole line (ending in LF) is its own canonical form.
  bool verbatim(std::string_view line) const;
  std::size_t whole_lines(std::string_view bytes, std::size_t i);
  std::size_t one_line(std::string_view bytes, std::size_t i);
  void end_of_line();
  void content(char c);
  void emit(std::string_view bytes);
  void pass(std::string_view bytes);
  void deliver(std::string_view bytes);
  void flush();

  Canon canon_;
  Sink sink_;
  std::optional<std::uint64_t> limit_;
  std::uint64_t length_ = 0;
  std::uint64_t empty_lines_ = 0;  // empty lines not written yet
  bool in_line_ = false;           // the current line has content
  bool pending_wsp_ = false;       // relaxed: white space not written yet
  bool pending_cr_ = false;        // a CR whose LF may still come
  char buffer_[4096];
  std::size_t used_ = 0;
};

// The whole body in canonical form, for tests and small bodies.
std::string canonicalize_body(Canon canon, std::string_view body);

}  // namespace postern::mailauth::dkim
