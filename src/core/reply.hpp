// An SMTP reply: a basic code, an enhanced status code (RFC 3463) and text.
// Every reply postern sends carries an enhanced status (RFC 2034), so the
// type has no way to leave it out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace postern {

struct Reply {
  int code = 0;                    // 250, 354, 421, 550 ...
  std::string status;              // "2.0.0"; empty only for 220/354/334 and EHLO
  std::vector<std::string> lines;  // one or more lines of text

  Reply() = default;
  Reply(int c, std::string st, std::string text) : code(c), status(std::move(st)) {
    lines.push_back(std::move(text));
  }
  Reply(int c, std::string st, std::vector<std::string> text)
      : code(c), status(std::move(st)), lines(std::move(text)) {}

  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }

  // Wire form: "250-first\r\n250 last\r\n", the enhanced status repeated on
  // every line as RFC 2034 §4 requires.
  std::string render() const;
  // One line for logs: "550 5.1.1 text".
  std::string summary() const;
};

}  // namespace postern
