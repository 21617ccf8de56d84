#include "mailauth/dkim/message_view.hpp"

namespace postern::mailauth::dkim {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Position just after the line break of the line starting at `pos`, or the
// end of the text when the last line has none.
std::size_t next_line(std::string_view s, std::size_t pos) {
  const std::size_t lf = s.find('\n', pos);
  return lf == std::string_view::npos ? s.size() : lf + 1;
}

bool is_empty_line(std::string_view s, std::size_t pos) {
  return s.substr(pos, 2) == "\r\n" || s.substr(pos, 1) == "\n";
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view HeaderField::value() const {
  std::string_view v = text;
  const std::size_t colon = v.find(':');
  v = colon == std::string_view::npos ? std::string_view{} : v.substr(colon + 1);
  if (v.ends_with("\r\n")) {
    v.remove_suffix(2);
  } else if (v.ends_with("\n")) {
    v.remove_suffix(1);
  }
  return v;
}

MessageView parse_message(std::string_view message) {
  MessageView view;
  std::size_t pos = 0;
  while (pos < message.size()) {
    if (is_empty_line(message, pos)) {
      view.body = message.substr(next_line(message, pos));
      return view;
    }
    const bool continuation = message[pos] == ' ' || message[pos] == '\t';
    const std::size_t end = next_line(message, pos);
    if (continuation && !view.fields.empty()) {
      HeaderField& f = view.fields.back();
      f.text = std::string_view(f.text.data(), f.text.size() + (end - pos));
    } else {
      std::string_view line = message.substr(pos, end - pos);
      const std::size_t colon = line.find(':');
      std::string_view name;
      if (colon != std::string_view::npos) {
        name = line.substr(0, colon);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      }
      view.fields.push_back({name, line});
    }
    pos = end;
  }
  return view;
}

}  // namespace postern::mailauth::dkim
