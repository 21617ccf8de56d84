#include "mailauth/dkim/canonicalize.hpp"

#include <algorithm>
#include <cstring>

namespace postern::mailauth::dkim {
namespace {

bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}
char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

void canonicalize_header(Canon canon, std::string_view field, std::string& out) {
  if (canon == Canon::simple) {
    // §3.4.1: unchanged. A field that ended the message without a line
    // break gets one, as it would have had in transit.
    out.append(field);
    if (!field.ends_with("\r\n")) {
      if (field.ends_with("\n")) out.pop_back();
      out.append("\r\n");
    }
    return;
  }
  // §3.4.2: lowercase name, no white space around the colon, folding
  // removed, runs of white space as one SP, none at the end.
  const std::size_t colon = field.find(':');
  std::string_view name = field.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  for (char c : name) out.push_back(lower(c));
  out.push_back(':');
  if (colon == std::string_view::npos) {
    out.append("\r\n");
    return;
  }
  bool wsp = false;
  bool started = false;
  for (char c : field.substr(colon + 1)) {
    if (c == '\r' || c == '\n') continue;  // unfolding: CRLF before WSP goes
    if (is_wsp(c)) {
      wsp = true;
      continue;
    }
    if (wsp && started) out.push_back(' ');
    wsp = false;
    started = true;
    out.push_back(c);
  }
  out.append("\r\n");
}

BodyCanonicalizer::BodyCanonicalizer(Canon canon, Sink sink, std::optional<std::uint64_t> limit)
    : canon_(canon), sink_(std::move(sink)), limit_(limit) {}

void BodyCanonicalizer::emit(std::string_view bytes) {
  while (!bytes.empty()) {
    if (used_ == sizeof buffer_) flush();
    const std::size_t n = std::min(bytes.size(), sizeof buffer_ - used_);
    std::memcpy(buffer_ + used_, bytes.data(), n);
    used_ += n;
    bytes.remove_prefix(n);
  }
}

// Canonical octets to the sink, cut at the l= limit.
void BodyCanonicalizer::deliver(std::string_view out) {
  const std::uint64_t before = length_;
  length_ += out.size();
  if (limit_) {
    const std::uint64_t room = before >= *limit_ ? 0 : *limit_ - before;
    out = out.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(room, out.size())));
  }
  if (!out.empty()) sink_(out);
}

void BodyCanonicalizer::flush() {
  if (used_ == 0) return;
  const std::size_t n = used_;
  used_ = 0;
  deliver(std::string_view(buffer_, n));
}

// Input octets that are already canonical go to the sink as they stand,
// after what is buffered, without being copied.
void BodyCanonicalizer::pass(std::string_view bytes) {
  if (bytes.empty()) return;
  flush();
  deliver(bytes);
}

// A character that makes the current line non-empty: the empty lines held
// back so far were not at the end of the body after all.
void BodyCanonicalizer::content(char c) {
  if (!in_line_) {
    for (; empty_lines_ > 0; --empty_lines_) emit("\r\n");
    in_line_ = true;
  }
  if (pending_wsp_) {
    emit(" ");
    pending_wsp_ = false;
  }
  emit(std::string_view(&c, 1));
}

void BodyCanonicalizer::end_of_line() {
  // Relaxed drops white space before the line end (§3.4.4 a).
  pending_wsp_ = false;
  if (in_line_) {
    emit("\r\n");
  } else {
    ++empty_lines_;
  }
  in_line_ = false;
}

// `line` ends in LF and holds no other LF. Simple: any non-empty line ending
// in CRLF stays as it is. Relaxed: also no TAB, no run of spaces, no space
// before the CRLF and no CR but the last (a bare CR is content, but the
// slow path decides what a CR followed by white space becomes).
bool BodyCanonicalizer::verbatim(std::string_view line) const {
  if (line.size() < 3 || line[line.size() - 2] != '\r') return false;
  if (canon_ == Canon::simple) return true;
  const std::string_view text = line.substr(0, line.size() - 2);
  if (text.back() == ' ') return false;
  bool space = false;
  for (const char c : text) {
    if (c == '\t' || c == '\r' || (c == ' ' && space)) return false;
    space = c == ' ';
  }
  return true;
}

// The fast path, from the start of a line: whole lines that are their own
// canonical form go to the sink in runs, straight from the input; empty
// lines are counted. Stops at the first line that needs the slow path, or
// at an unfinished last line. Returns where it stopped.
std::size_t BodyCanonicalizer::whole_lines(std::string_view bytes, std::size_t i) {
  std::size_t run = i;  // start of the verbatim octets not passed on yet
  while (i < bytes.size()) {
    const void* lf = std::memchr(bytes.data() + i, '\n', bytes.size() - i);
    if (lf == nullptr) break;
    const std::size_t end =
        static_cast<std::size_t>(static_cast<const char*>(lf) - bytes.data()) + 1;
    const std::string_view line = bytes.substr(i, end - i);
    if (line == "\r\n") {
      pass(bytes.substr(run, i - run));
      ++empty_lines_;
      run = i = end;
      continue;
    }
    if (!verbatim(line)) break;
    if (empty_lines_ > 0) {
      // Not the end of the body after all: they go out before this line.
      pass(bytes.substr(run, i - run));
      run = i;
      for (; empty_lines_ > 0; --empty_lines_) emit("\r\n");
    }
    i = end;
  }
  pass(bytes.substr(run, i - run));
  return i;
}

// The slow path, octet by octet, up to and including the next line end (or
// to the end of the input). Returns where it stopped.
std::size_t BodyCanonicalizer::one_line(std::string_view bytes, std::size_t i) {
  for (; i < bytes.size(); ++i) {
    const char c = bytes[i];
    // A run of octets that are neither line ends nor (relaxed) white space
    // is content as it stands, copied in one piece. In relaxed, a single SP
    // between two such octets stays as it is, so it does not end the run.
    if (!pending_cr_ && c != '\r' && c != '\n' && !(canon_ == Canon::relaxed && is_wsp(c))) {
      std::size_t end = i + 1;
      while (end < bytes.size()) {
        const char d = bytes[end];
        if (d == '\r' || d == '\n') break;
        if (canon_ == Canon::relaxed && is_wsp(d)) {
          const bool lone_space = d == ' ' && end + 1 < bytes.size() && !is_wsp(bytes[end + 1]) &&
                                  bytes[end + 1] != '\r' && bytes[end + 1] != '\n';
          if (!lone_space) break;
        }
        ++end;
      }
      content(c);
      emit(bytes.substr(i + 1, end - i - 1));
      i = end - 1;
      continue;
    }
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') {
        end_of_line();
        return i + 1;
      }
      content('\r');  // a bare CR is ordinary content
    }
    if (c == '\r') {
      pending_cr_ = true;
    } else if (c == '\n') {
      end_of_line();  // a bare LF ends a line as CRLF would
      return i + 1;
    } else if (canon_ == Canon::relaxed && is_wsp(c)) {
      pending_wsp_ = true;
    } else {
      content(c);
    }
  }
  return i;
}

void BodyCanonicalizer::update(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (at_line_start()) {
      i = whole_lines(bytes, i);
      if (i == bytes.size()) break;
    }
    i = one_line(bytes, i);
  }
}

void BodyCanonicalizer::finish() {
  if (pending_cr_) {
    pending_cr_ = false;
    content('\r');
  }
  pending_wsp_ = false;
  // A last line without its CRLF gets one (§3.4.3, §3.4.4). Empty lines at
  // the end are dropped; an empty body is CRLF in simple and nothing in
  // relaxed.
  if (in_line_) {
    emit("\r\n");
  } else if (canon_ == Canon::simple && length_ + used_ == 0) {
    emit("\r\n");
  }
  in_line_ = false;
  empty_lines_ = 0;
  flush();
}

std::string canonicalize_body(Canon canon, std::string_view body) {
  std::string out;
  BodyCanonicalizer c(canon, [&out](std::string_view s) { out.append(s); });
  c.update(body);
  c.finish();
  return out;
}

}  // namespace postern::mailauth::dkim
