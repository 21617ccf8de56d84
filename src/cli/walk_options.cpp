#include "cli/walk_options.hpp"

#include <unistd.h>

#include <cstdlib>

namespace postern::cli {

probe::TlsChoice tls_choice(const std::string& text) {
  if (text == "starttls") return probe::TlsChoice::starttls;
  if (text == "implicit") return probe::TlsChoice::implicit;
  if (text == "none") return probe::TlsChoice::none;
  return probe::TlsChoice::automatic;
}

bool use_color() {
  const char* no_color = std::getenv("NO_COLOR");
  return isatty(STDOUT_FILENO) == 1 && (no_color == nullptr || no_color[0] == '\0');
}

void print_transcript_line(const probe::TranscriptLine& line, std::ostream& out) {
  switch (line.direction) {
    case probe::TranscriptLine::Direction::sent:
      out << "C: " << line.text << "\n";
      break;
    case probe::TranscriptLine::Direction::received:
      out << "S: " << line.text << "\n";
      break;
    case probe::TranscriptLine::Direction::info:
      out << "*  " << line.text << "\n";
      break;
  }
  out.flush();
}

}  // namespace postern::cli
