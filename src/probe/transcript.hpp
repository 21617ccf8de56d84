// The -v transcript of a walk: every line sent and received, with secrets
// masked before the line leaves the walker (SPEC §3.1: credentials never
// appear, in a transcript, a report or JSON).
#pragma once

#include <string>
#include <string_view>

#include "probe/probe.hpp"

namespace postern::probe {

// A command line as it may be shown: "AUTH PLAIN <base64>" becomes
// "AUTH PLAIN ****" (RFC 4954 §4: the initial response carries the
// credentials); every other command is returned unchanged.
std::string mask_command(std::string_view line);

inline constexpr std::string_view kMasked = "****";

class Transcript {
 public:
  explicit Transcript(TranscriptSink sink) : sink_(std::move(sink)) {}
  // A command line (without CRLF), masked by mask_command().
  void sent(std::string_view line);
  // A SASL continuation line (RFC 4954 §4): always shown as "****".
  void sent_secret();
  void received(std::string_view line);
  void info(std::string_view text);

 private:
  void emit(TranscriptLine::Direction direction, std::string text);
  TranscriptSink sink_;
};

}  // namespace postern::probe
