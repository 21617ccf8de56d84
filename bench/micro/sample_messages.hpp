// Deterministic inputs for the micro-benchmarks and the instruction-count
// driver: the same bytes on every run, so that figures compare across
// commits (bench/README.md, "Micro-benchmarks and instruction counts").
#pragma once

#include <cstddef>
#include <string>

namespace postern::bench {

// The message size the targets are stated in (smtp-source -l 4096).
inline constexpr std::size_t kMessageSize = 4096;

enum class LineEnding { crlf, bare_lf };

// A DATA section as a client sends it after 354: RFC 5322 header fields, a
// blank line, a body of 72-octet lines, and the end marker CRLF "." CRLF.
// Exactly `total` octets. With LineEnding::bare_lf every line but the last
// ends in a bare LF (the end marker is always CRLF "." CRLF, RFC 5321
// §4.1.1.4); with `dot_stuffed` every second body line starts with a
// period, sent doubled (RFC 5321 §4.5.2).
std::string wire_message(std::size_t total, LineEnding ending, bool dot_stuffed);

// Pipelined RCPT TO command lines (RFC 2920), about `total` octets of whole
// lines, each ending as `ending` says.
std::string command_lines(std::size_t total, LineEnding ending);

}  // namespace postern::bench
