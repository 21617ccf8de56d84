// A strict reader of RFC 3464 delivery status notifications, for tests: it
// refuses anything a picky MIME parser would (bare CR or LF, lines over 998
// octets, malformed header fields, a boundary that is missing, unclosed or
// found inside a part) and returns the report's structure for assertions.
#pragma once

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::testing {

struct MimeEntity {
  // Field names lowercased; values unfolded (CRLF before a blank removed).
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;

  std::optional<std::string> get(std::string_view name) const {
    for (const auto& [n, v] : fields) {
      if (n == name) return v;
    }
    return std::nullopt;
  }
  std::size_t count(std::string_view name) const {
    return static_cast<std::size_t>(std::count_if(fields.begin(), fields.end(),
                                                  [&](const auto& f) { return f.first == name; }));
  }
};

struct DsnReport {
  MimeEntity message;
  std::vector<MimeEntity> parts;
  // message/delivery-status: the per-message block, then one per recipient.
  MimeEntity per_message;
  std::vector<MimeEntity> per_recipient;
};

namespace mime_detail {

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// Every line ends in CRLF and is at most 998 octets (RFC 5322 §2.1.1).
inline bool check_lines(std::string_view text, std::string& error) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) {
      error = "bare LF at offset " + std::to_string(i);
      return false;
    }
    if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) {
      error = "bare CR at offset " + std::to_string(i);
      return false;
    }
    if (text[i] == '\n') {
      if (i - 1 - start > 998) {
        error = "line longer than 998 octets at offset " + std::to_string(start);
        return false;
      }
      start = i + 1;
    }
  }
  if (start != text.size()) {
    error = "text does not end with CRLF";
    return false;
  }
  return true;
}

// Header fields up to the blank line (RFC 5322 §2.2); `rest` gets the body.
inline bool parse_fields(std::string_view text, MimeEntity& out, std::string& error,
                         bool need_blank_line = true) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find("\r\n", pos);
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) {
      out.body = std::string(text.substr(pos));
      return true;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (out.fields.empty()) {
        error = "continuation line before any field: " + std::string(line);
        return false;
      }
      out.fields.back().second += std::string(line);
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      error = "not a header field: " + std::string(line);
      return false;
    }
    for (std::size_t i = 0; i < colon; ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      if (c <= 32 || c >= 127) {
        error = "bad character in field name: " + std::string(line);
        return false;
      }
    }
    out.fields.emplace_back(lower(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  for (auto& f : out.fields) f.second = trim(f.second);
  if (need_blank_line) {
    error = "header section without the blank line that ends it";
    return false;
  }
  return true;
}

inline void trim_values(MimeEntity& e) {
  for (auto& f : e.fields) f.second = trim(f.second);
}

// The value of parameter `name` in a Content-Type, unquoted.
inline std::optional<std::string> parameter(std::string_view value, std::string_view name) {
  std::size_t pos = value.find(';');
  while (pos != std::string_view::npos) {
    std::size_t start = pos + 1;
    while (start < value.size() && (value[start] == ' ' || value[start] == '\t')) ++start;
    const std::size_t eq = value.find('=', start);
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string key = lower(trim(value.substr(start, eq - start)));
    std::string v;
    std::size_t next;
    if (eq + 1 < value.size() && value[eq + 1] == '"') {
      const std::size_t close = value.find('"', eq + 2);
      if (close == std::string_view::npos) return std::nullopt;
      v = std::string(value.substr(eq + 2, close - eq - 2));
      next = value.find(';', close);
    } else {
      next = value.find(';', eq);
      v = trim(value.substr(eq + 1, next == std::string_view::npos ? next : next - eq - 1));
    }
    if (key == name) return v;
    pos = next;
  }
  return std::nullopt;
}

inline bool is_status(std::string_view s) {
  // RFC 3463: class.subject.detail with 1-3 digit subject and detail.
  if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
  std::size_t i = 2, n = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++n;
  if (n < 1 || n > 3 || i >= s.size() || s[i] != '.') return false;
  ++i;
  n = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++n;
  return n >= 1 && n <= 3 && i == s.size();
}

}  // namespace mime_detail

// Parses `text` as a complete bounce; nullopt with `error` set when it is
// not a strictly valid RFC 3464 report.
inline std::optional<DsnReport> parse_dsn(const std::string& text, std::string& error) {
  using namespace mime_detail;
  DsnReport r;
  if (!check_lines(text, error)) return std::nullopt;
  if (!parse_fields(text, r.message, error)) return std::nullopt;
  trim_values(r.message);
  for (const char* required : {"from", "to", "subject", "date", "message-id", "mime-version",
                               "content-type", "auto-submitted"}) {
    if (r.message.count(required) != 1) {
      error = std::string("header field ") + required + " must occur exactly once";
      return std::nullopt;
    }
  }
  if (r.message.get("mime-version") != "1.0") {
    error = "MIME-Version is not 1.0";
    return std::nullopt;
  }
  const std::string type = *r.message.get("content-type");
  if (!lower(type).starts_with("multipart/report;") ||
      parameter(type, "report-type") != "delivery-status") {
    error = "not multipart/report; report-type=delivery-status: " + type;
    return std::nullopt;
  }
  const auto boundary = parameter(type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 70) {
    error = "missing or bad boundary";
    return std::nullopt;
  }
  // RFC 2046 §5.1.1: delimiter lines are CRLF "--" boundary, the last one
  // followed by "--"; the preamble comes before the first.
  const std::string delimiter = "\r\n--" + *boundary;
  std::string body = "\r\n" + r.message.body;
  std::size_t pos = body.find(delimiter + "\r\n");
  if (pos == std::string::npos) {
    error = "no first boundary";
    return std::nullopt;
  }
  for (;;) {
    const std::size_t start = pos + delimiter.size() + 2;
    const std::size_t next = body.find(delimiter, start);
    if (next == std::string::npos) {
      error = "part " + std::to_string(r.parts.size() + 1) + " is not closed";
      return std::nullopt;
    }
    MimeEntity part;
    const std::string content = body.substr(start, next - start) + "\r\n";
    if (!parse_fields(content, part, error)) return std::nullopt;
    trim_values(part);
    // The CRLF before a delimiter belongs to it; put back what we added.
    part.body.resize(part.body.size() - 2);
    r.parts.push_back(std::move(part));
    const std::string_view after = std::string_view(body).substr(next + delimiter.size());
    if (after.starts_with("--\r\n")) {
      if (after.size() != 4) {
        // An epilogue is allowed, but we write none.
        error = "text after the closing boundary";
        return std::nullopt;
      }
      break;
    }
    if (!after.starts_with("\r\n")) {
      error = "boundary followed by other text";
      return std::nullopt;
    }
    pos = next;
  }
  if (r.parts.size() != 3) {
    error = "a delivery report has 3 parts, found " + std::to_string(r.parts.size());
    return std::nullopt;
  }
  const auto type_of = [](const MimeEntity& e) {
    const auto t = e.get("content-type");
    return t ? lower(t->substr(0, t->find(';'))) : std::string("text/plain");
  };
  if (type_of(r.parts[0]) != "text/plain") {
    error = "part 1 is not text/plain";
    return std::nullopt;
  }
  const std::string status_type = type_of(r.parts[1]);
  if (status_type != "message/delivery-status" && status_type != "message/global-delivery-status") {
    error = "part 2 is " + status_type;
    return std::nullopt;
  }
  const std::string original_type = type_of(r.parts[2]);
  if (original_type != "message/rfc822" && original_type != "text/rfc822-headers") {
    error = "part 3 is " + original_type;
    return std::nullopt;
  }

  // RFC 3464 §2.1: blocks of fields separated by blank lines.
  std::string status = r.parts[1].body;
  std::vector<MimeEntity> blocks;
  std::size_t at = 0;
  while (at < status.size()) {
    std::size_t end = status.find("\r\n\r\n", at);
    const std::string block =
        status.substr(at, end == std::string::npos ? std::string::npos : end + 2 - at);
    MimeEntity e;
    if (!parse_fields(block, e, error, false)) return std::nullopt;
    trim_values(e);
    blocks.push_back(std::move(e));
    if (end == std::string::npos) break;
    at = end + 4;
  }
  if (blocks.size() < 2) {
    error = "delivery-status needs a per-message block and a recipient block";
    return std::nullopt;
  }
  r.per_message = blocks[0];
  if (r.per_message.count("reporting-mta") != 1) {
    error = "no Reporting-MTA";
    return std::nullopt;
  }
  for (std::size_t i = 1; i < blocks.size(); ++i) {
    const MimeEntity& b = blocks[i];
    for (const char* required : {"final-recipient", "action", "status"}) {
      if (b.count(required) != 1) {
        error = "recipient block " + std::to_string(i) + " lacks " + required;
        return std::nullopt;
      }
    }
    if (!is_status(*b.get("status"))) {
      error = "bad Status: " + *b.get("status");
      return std::nullopt;
    }
    const std::string action = *b.get("action");
    if (action != "failed" && action != "delayed" && action != "delivered" && action != "relayed" &&
        action != "expanded") {
      error = "bad Action: " + action;
      return std::nullopt;
    }
    const std::string fr = *b.get("final-recipient");
    if (fr.find(';') == std::string::npos) {
      error = "Final-Recipient without an address type: " + fr;
      return std::nullopt;
    }
    r.per_recipient.push_back(b);
  }
  return r;
}

}  // namespace postern::testing
