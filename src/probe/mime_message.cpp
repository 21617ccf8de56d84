// Building `postern send`'s message (RFC 5322, MIME: RFC 2045-2047).
#include "probe/mime_message.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>

#include "message/date.hpp"
#include "message/line_endings.hpp"
#include "sasl/sasl.hpp"

namespace postern::probe {
namespace {

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x80 && c != 0; });
}

// Header values must not carry line breaks of their own (header injection).
std::string one_line(std::string_view text) {
  std::string out(text);
  std::replace(out.begin(), out.end(), '\r', ' ');
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

std::string domain_of(const std::string& address) {
  const std::size_t at = address.rfind('@');
  if (at == std::string::npos || at + 1 >= address.size()) return "postern.invalid";
  std::string d = address.substr(at + 1);
  if (!d.empty() && d.back() == '>') d.pop_back();
  return d;
}

// An RFC 2231 / quoted filename parameter; non-ASCII names use RFC 2231 §4
// (filename*=utf-8''...) which mail clients read.
std::string filename_parameter(const std::string& name) {
  if (is_ascii(name)) {
    std::string quoted;
    for (char c : name) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    return "filename=\"" + quoted + "\"";
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "filename*=utf-8''";
  for (unsigned char c : name) {
    if (std::isalnum(c) != 0 || c == '.' || c == '-' || c == '_') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

std::string text_part_headers(const std::string& body) {
  if (is_ascii(body))
    return "Content-Type: text/plain; charset=us-ascii\r\n"
           "Content-Transfer-Encoding: 7bit\r\n";
  return "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n";
}

std::string text_part_body(const std::string& body) {
  // An empty body is still one (empty) line.
  const std::string lines = body.empty() ? std::string("\r\n") : message::to_crlf_lines(body);
  return is_ascii(body) ? lines : base64_lines(lines);
}

}  // namespace

std::string base64_lines(std::string_view data) {
  const std::string encoded = sasl::base64_encode(data);
  std::string out;
  out.reserve(encoded.size() + encoded.size() / 38 + 2);
  for (std::size_t i = 0; i < encoded.size(); i += 76) out += encoded.substr(i, 76) + "\r\n";
  return out;
}

std::string encode_header_text(std::string_view text) {
  if (is_ascii(text)) return std::string(text);
  // "=?utf-8?B?" + "?=" is 12 octets; 75 - 12 = 63 base64 characters, so
  // at most 45 octets of text per word (a multiple of 3 keeps padding at
  // the end only).
  constexpr std::size_t kChunk = 45;
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = std::min(text.size(), i + kChunk);
    // Do not split a UTF-8 sequence (RFC 2047 §5 (3)): back up to a lead octet.
    while (end < text.size() && end > i && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
      --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?utf-8?B?" + sasl::base64_encode(text.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string guess_content_type(std::string_view filename) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 24> kTypes = {{
      {"txt", "text/plain"},
      {"log", "text/plain"},
      {"csv", "text/csv"},
      {"htm", "text/html"},
      {"html", "text/html"},
      {"xml", "application/xml"},
      {"json", "application/json"},
      {"pdf", "application/pdf"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
      {"tar", "application/x-tar"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"svg", "image/svg+xml"},
      {"webp", "image/webp"},
      {"ics", "text/calendar"},
      {"eml", "message/rfc822"},
      {"doc", "application/msword"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {"odt", "application/vnd.oasis.opendocument.text"},
      {"mp3", "audio/mpeg"},
  }};
  const std::size_t slash = filename.find_last_of('/');
  const std::string_view base =
      slash == std::string_view::npos ? filename : filename.substr(slash + 1);
  const std::size_t dot = base.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return "application/octet-stream";
  std::string ext(base.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [e, type] : kTypes)
    if (e == ext) return std::string(type);
  return "application/octet-stream";
}

bool parse_header_option(std::string_view text, std::pair<std::string, std::string>& out) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view name = text.substr(0, colon);
  // RFC 5322 §3.6.8: ftext is %d33-57 / %d59-126.
  for (unsigned char c : name)
    if (c < 33 || c > 126) return false;
  std::string_view value = text.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  if (value.find_first_of("\r\n") != std::string_view::npos) return false;
  out = {std::string(name), std::string(value)};
  return true;
}

std::string build_message(const MessageSpec& spec) {
  std::string m;
  m += "Date: " + message::rfc5322_date(spec.date) + "\r\n";
  m += "Message-ID: <" + spec.unique + "@" + domain_of(spec.from) + ">\r\n";
  m += "From: " + one_line(spec.from) + "\r\n";
  std::string to;
  for (const std::string& r : spec.to) to += (to.empty() ? "" : ",\r\n ") + one_line(r);
  m += "To: " + to + "\r\n";
  m += "Subject: " + encode_header_text(one_line(spec.subject)) + "\r\n";
  for (const auto& [name, value] : spec.headers)
    m += name + ": " + encode_header_text(one_line(value)) + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  if (spec.attachments.empty()) {
    m += text_part_headers(spec.body) + "\r\n" + text_part_body(spec.body);
    return m;
  }
  // RFC 2046 §5.1.1: the boundary must not occur in the parts; base64 and
  // the text body never contain "=_" followed by our seed.
  const std::string boundary = "=_postern_" + spec.unique;
  m += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n";
  m += "This is a MIME message.\r\n";
  // RFC 2046 §5.1.1: the CRLF before a delimiter belongs to the delimiter,
  // so one more keeps the text's own last line break.
  m += "--" + boundary + "\r\n" + text_part_headers(spec.body) + "\r\n" +
       text_part_body(spec.body) + "\r\n";
  for (const MimeAttachment& a : spec.attachments) {
    const std::string param = filename_parameter(a.filename);
    m += "--" + boundary + "\r\n";
    m += "Content-Type: " + a.content_type + "\r\n";
    m += "Content-Disposition: attachment; " + param + "\r\n";
    m += "Content-Transfer-Encoding: base64\r\n\r\n";
    m += base64_lines(a.data);
  }
  m += "--" + boundary + "--\r\n";
  return m;
}

}  // namespace postern::probe
