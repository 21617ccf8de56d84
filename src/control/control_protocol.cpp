#include "control/control_protocol.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace postern::control {
namespace {

constexpr std::size_t kMaxQueueId = 64;

struct VerbName {
  Verb verb;
  std::string_view word;
};

constexpr std::array<VerbName, 7> kVerbs = {{
    {Verb::ping, "PING"},
    {Verb::flush, "FLUSH"},
    {Verb::status, "STATUS"},
    {Verb::remove, "DELETE"},
    {Verb::hold, "HOLD"},
    {Verb::release, "RELEASE"},
    {Verb::submit, "SUBMIT"},
}};

struct KindName {
  ErrorKind kind;
  std::string_view word;
};

constexpr std::array<KindName, 6> kKinds = {{
    {ErrorKind::usage, "usage"},
    {ErrorKind::data, "data"},
    {ErrorKind::nouser, "nouser"},
    {ErrorKind::notfound, "notfound"},
    {ErrorKind::tempfail, "tempfail"},
    {ErrorKind::software, "software"},
}};

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// Splits at the first space; the rest keeps any further spaces.
std::pair<std::string_view, std::string_view> split_word(std::string_view s) {
  const std::size_t sp = s.find(' ');
  if (sp == std::string_view::npos) return {s, {}};
  return {s.substr(0, sp), s.substr(sp + 1)};
}

// A decimal size: digits only (no sign, no blanks), no overflow.
std::optional<std::size_t> parse_size(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

ParsedRequestLine fail(std::string why, ErrorKind kind = ErrorKind::usage) {
  return ParsedRequestLine{std::nullopt, std::move(why), kind};
}

}  // namespace

std::string_view to_string(Verb verb) {
  for (const auto& v : kVerbs) {
    if (v.verb == verb) return v.word;
  }
  return "PING";
}

std::string format_request(const Request& request) {
  std::string line(to_string(request.verb));
  switch (request.verb) {
    case Verb::ping:
    case Verb::flush:
    case Verb::status:
      break;
    case Verb::remove:
    case Verb::hold:
    case Verb::release:
      line += ' ';
      line += request.queue_id;
      break;
    case Verb::submit:
      line += ' ';
      line += std::to_string(request.envelope_size);
      line += ' ';
      line += std::to_string(request.message_size);
      break;
  }
  line += '\n';
  return line;
}

bool is_wire_queue_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxQueueId) return false;
  for (char c : id) {
    if (!is_alnum(c)) return false;
  }
  return true;
}

ParsedRequestLine parse_request_line(std::string_view line, std::size_t max_message) {
  if (line.size() > kMaxRequestLine) return fail("request line too long");
  // A client that writes CRLF is tolerated.
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const auto [word, rest] = split_word(line);
  const VerbName* found = nullptr;
  for (const auto& v : kVerbs) {
    if (v.word == word) found = &v;
  }
  if (found == nullptr) return fail("unknown request");
  Request r;
  r.verb = found->verb;
  switch (r.verb) {
    case Verb::ping:
    case Verb::flush:
    case Verb::status:
      if (line.size() != word.size()) return fail(std::string(word) + " takes no argument");
      break;
    case Verb::remove:
    case Verb::hold:
    case Verb::release:
      if (!is_wire_queue_id(rest)) return fail("not a queue id");
      r.queue_id = std::string(rest);
      break;
    case Verb::submit: {
      const auto [first, second] = split_word(rest);
      const auto envelope_size = parse_size(first);
      const auto message_size = parse_size(second);
      if (!envelope_size || !message_size) return fail("SUBMIT needs two sizes");
      if (*envelope_size == 0 || *envelope_size > kMaxEnvelopeBlock) {
        return fail("envelope size out of range");
      }
      if (*message_size > max_message)
        return fail("message exceeds the maximum message size", ErrorKind::data);
      r.envelope_size = *envelope_size;
      r.message_size = *message_size;
      break;
    }
  }
  return ParsedRequestLine{std::move(r), {}, ErrorKind::usage};
}

bool is_wire_address(std::string_view address) {
  if (address.size() > kMaxEnvelopeLine - 5) return false;
  for (char c : address) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

std::string encode_submit_envelope(const SubmitEnvelope& envelope) {
  std::string block = "FROM " + envelope.sender + "\n";
  for (const std::string& r : envelope.recipients) block += "TO " + r + "\n";
  return block;
}

DecodedEnvelope decode_submit_envelope(std::string_view block) {
  DecodedEnvelope out;
  SubmitEnvelope e;
  bool have_from = false;
  while (!block.empty()) {
    const std::size_t lf = block.find('\n');
    if (lf == std::string_view::npos) {
      out.error = "envelope line without LF";
      return out;
    }
    const std::string_view line = block.substr(0, lf);
    block.remove_prefix(lf + 1);
    if (line.size() > kMaxEnvelopeLine) {
      out.error = "envelope line too long";
      return out;
    }
    const auto [word, value] = split_word(line);
    if (word == "FROM" && !have_from) {
      // "FROM " with nothing after it is the null sender.
      if (line.size() == word.size()) {
        out.error = "FROM without a space";
        return out;
      }
      if (!value.empty() && !is_wire_address(value)) {
        out.error = "bad sender";
        return out;
      }
      e.sender = std::string(value);
      have_from = true;
    } else if (word == "TO" && have_from) {
      if (value.empty() || !is_wire_address(value)) {
        out.error = "bad recipient";
        return out;
      }
      e.recipients.emplace_back(value);
    } else {
      out.error = have_from ? "unexpected envelope line" : "envelope must start with FROM";
      return out;
    }
  }
  if (!have_from) {
    out.error = "envelope without FROM";
    return out;
  }
  if (e.recipients.empty()) {
    out.error = "no recipients";
    return out;
  }
  out.envelope = std::move(e);
  return out;
}

std::string_view to_string(ErrorKind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.word;
  }
  return "software";
}

std::optional<ErrorKind> error_kind_from_string(std::string_view word) {
  for (const auto& k : kKinds) {
    if (k.word == word) return k.kind;
  }
  return std::nullopt;
}

Response ok_response(std::string text) {
  return Response{true, ErrorKind::software, std::move(text)};
}

Response error_response(ErrorKind kind, std::string text) {
  return Response{false, kind, std::move(text)};
}

std::string format_response(const Response& response) {
  std::string line = response.ok ? "OK" : "ERR " + std::string(to_string(response.kind));
  if (!response.text.empty() || !response.ok) {
    line += ' ';
    for (char c : response.text) {
      const auto u = static_cast<unsigned char>(c);
      line += (u < 0x20 || u == 0x7f) ? '?' : c;
    }
  }
  if (line.size() > kMaxResponseLine) line.resize(kMaxResponseLine);
  line += '\n';
  return line;
}

std::optional<Response> parse_response_line(std::string_view line) {
  if (line.size() > kMaxResponseLine) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const auto [word, rest] = split_word(line);
  if (word == "OK") return ok_response(std::string(rest));
  if (word != "ERR") return std::nullopt;
  const auto [kind_word, text] = split_word(rest);
  const auto kind = error_kind_from_string(kind_word);
  if (!kind) return std::nullopt;
  return error_response(*kind, std::string(text));
}

}  // namespace postern::control
