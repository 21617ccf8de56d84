#include "dovecot/wire.hpp"

namespace postern::dovecot {

std::string tab_escape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (char c : field) {
    switch (c) {
      case '\x01':
        out +=
            "\x01"
            "1";
        break;
      case '\t':
        out += "\x01t";
        break;
      case '\n':
        out += "\x01n";
        break;
      case '\r':
        out += "\x01r";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string tab_unescape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\x01' || i + 1 == field.size()) {
      out += field[i];
      continue;
    }
    switch (field[++i]) {
      case '1':
        out += '\x01';
        break;
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      default:  // not an escape Dovecot writes: keep both bytes
        out += '\x01';
        out += field[i];
    }
  }
  return out;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (;;) {
    const std::size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

std::optional<std::string> LineReader::next_line(bool& too_long) {
  too_long = false;
  const std::size_t lf = buffer_.find('\n');
  if (lf == std::string::npos) {
    too_long = buffer_.size() > kMaxLine;
    return std::nullopt;
  }
  if (lf > kMaxLine) {
    too_long = true;
    return std::nullopt;
  }
  std::string line = buffer_.substr(0, lf);
  buffer_.erase(0, lf + 1);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace postern::dovecot
