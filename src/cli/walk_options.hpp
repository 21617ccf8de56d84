// What `postern probe` and `postern send` share on the command line: both
// drive the probe's walk (probe/probe.hpp), so --tls means the same, the
// report is coloured on a terminal the same way (NO_COLOR honoured), and
// --verbose prints the same transcript. Their passwords come through
// cli/password_input.hpp.
#pragma once

#include <ostream>
#include <string>

#include "probe/probe.hpp"

namespace postern::cli {

// --tls auto|starttls|implicit|none (CLI11 has checked the word).
probe::TlsChoice tls_choice(const std::string& text);

// Colour only on a terminal, and never when NO_COLOR is set (no-color.org).
bool use_color();

// One line of --verbose: "C: " what we sent, "S: " what the server said,
// "*  " what happened in between (TLS, timing).
void print_transcript_line(const probe::TranscriptLine& line, std::ostream& out);

}  // namespace postern::cli
