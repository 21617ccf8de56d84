// The test message `postern send` hands to the walk: an RFC 5322 message
// with the headers a receiving server expects (Date, Message-ID, From, To,
// Subject, MIME-Version), a text body and, when files are attached, a
// multipart/mixed body (RFC 2046 §5.1.3) with base64 parts (RFC 2045 §6.8).
// Pure: the date and the Message-ID's unique part come from the caller.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::probe {

struct MimeAttachment {
  std::string filename;      // the name shown to the recipient (no directory)
  std::string content_type;  // "application/pdf"
  std::string data;          // raw bytes
};

struct MessageSpec {
  std::string from;
  std::vector<std::string> to;
  std::string subject;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, in order
  std::string body;                                          // LF or CRLF lines
  std::vector<MimeAttachment> attachments;
  std::chrono::system_clock::time_point date;
  std::string unique;  // Message-ID local part and boundary seed (random per send)
};

// The whole message, CRLF line ends, not dot-stuffed.
std::string build_message(const MessageSpec& spec);

// RFC 2047 §4.1 "B" encoded-words for a header value that is not plain
// ASCII, split so each encoded-word stays within 75 octets (§2) and never
// inside a UTF-8 sequence; ASCII text comes back unchanged.
std::string encode_header_text(std::string_view text);

// The content type for a file name, by extension; application/octet-stream
// when unknown.
std::string guess_content_type(std::string_view filename);

// base64 in lines of 76 characters, CRLF after each (RFC 2045 §6.8).
std::string base64_lines(std::string_view data);

// "Name: value" as given to --header; false when the name is not a valid
// field name (RFC 5322 §3.6.8: printable ASCII except colon).
bool parse_header_option(std::string_view text, std::pair<std::string, std::string>& out);

}  // namespace postern::probe
