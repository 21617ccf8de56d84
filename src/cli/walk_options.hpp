// What `postern probe` and `postern send` share on the command line: both
// drive the probe's walk (probe/probe.hpp), so --tls means the same, the
// report is coloured on a terminal the same way (NO_COLOR honoured), and
// --verbose prints the same transcript. Their passwords come through
// cli/password_input.hpp.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <string_view>

#include "probe/probe.hpp"

namespace postern::cli {

// The options both commands take with the same meaning.
struct WalkCliOptions {
  std::string tls = "auto";
  std::string user;
  bool password_stdin = false;
  std::string password_env;
  bool json = false;
  bool ipv4 = false;
  bool ipv6 = false;
  std::string ca_file;
  std::string resolver;
  std::string helo;
  bool verbose = false;
};

// Registers --tls, --user, --password-stdin and --password-env.
void add_tls_and_login_options(CLI::App& command, WalkCliOptions& options);
// Registers --json, -4/--ipv4, -6/--ipv6, --ca-file, --resolver, --helo and
// -v/--verbose.
void add_connection_options(CLI::App& command, WalkCliOptions& options);

// Carries the shared options into the walk's: TLS choice, address family,
// CA file, resolver, EHLO name, and the transcript printer for --verbose
// (on standard error with --json, so the JSON stays clean).
void apply_walk_options(const WalkCliOptions& options, probe::ProbeOptions& out);

// --user and its password from stdin or the environment, never from the
// command line where `ps` would show it; never printed. False (after saying
// why, prefixed with `who`) on a mistake.
bool read_walk_password(std::string_view who, const WalkCliOptions& options,
                        probe::ProbeOptions& out);

// --tls auto|starttls|implicit|none (CLI11 has checked the word).
probe::TlsChoice tls_choice(const std::string& text);

// Colour only on a terminal, and never when NO_COLOR is set (no-color.org).
bool use_color();

// One line of --verbose: "C: " what we sent, "S: " what the server said,
// "*  " what happened in between (TLS, timing).
void print_transcript_line(const probe::TranscriptLine& line, std::ostream& out);

}  // namespace postern::cli
