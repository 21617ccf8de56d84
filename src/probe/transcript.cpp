#include "probe/transcript.hpp"

namespace postern::probe {
namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::string mask_command(std::string_view line) {
  if (!starts_with_nocase(line, "AUTH ")) return std::string(line);
  // Keep "AUTH MECHANISM", hide whatever follows it.
  std::size_t i = 5;
  while (i < line.size() && line[i] == ' ') ++i;
  const std::size_t end = line.find(' ', i);
  if (end == std::string_view::npos) return std::string(line);
  return std::string(line.substr(0, end)) + " " + std::string(kMasked);
}

void Transcript::sent(std::string_view line) {
  emit(TranscriptLine::Direction::sent, mask_command(line));
}

void Transcript::sent_secret() {
  emit(TranscriptLine::Direction::sent, std::string(kMasked));
}

void Transcript::received(std::string_view line) {
  emit(TranscriptLine::Direction::received, std::string(line));
}

void Transcript::info(std::string_view text) {
  emit(TranscriptLine::Direction::info, std::string(text));
}

void Transcript::emit(TranscriptLine::Direction direction, std::string text) {
  if (!sink_) return;
  TranscriptLine line;
  line.direction = direction;
  line.text = std::move(text);
  sink_(line);
}

}  // namespace postern::probe
