// Usage errors, the same for every subcommand: CLI11's own messages ("A
// subcommand is required", "The following argument was not expected") and
// exit statuses (105-109) are turned into one sentence of ours that names
// the mistake, and exit status 2 (docs/command-line.md). main() calls
// parse_command_line() once for the whole tree, so a subcommand added by
// any module gets this without doing anything.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace postern::cli {

// The documented exit status of a usage mistake (sendmail keeps sysexits'
// EX_USAGE, 64, because that is what its callers read).
constexpr int kUsageExitStatus = 2;
constexpr int kSendmailUsageExitStatus = 64;

// What is known about a parse failure, independent of CLI11's types, so the
// wording can be unit-tested as a table.
struct ParseFailure {
  std::string kind;                      // CLI11's error name: "RequiredError", "ExtrasError", ...
  std::string message;                   // CLI11's text
  std::string command;                   // "postern queue": the deepest command that was reached
  std::vector<std::string> subcommands;  // that command's subcommand names
  std::vector<std::string> leftovers;    // arguments nobody took
};

// One sentence (no trailing newline) naming the mistake, e.g.
// "postern queue: unknown subcommand frob (expected one of: list, show, ...)".
std::string explain(const ParseFailure& failure);

// Parses argv into `app`. Returns nullopt when the chosen command should
// run; otherwise the exit status to return at once (0 after --help or
// --version, which CLI11 prints; kUsageExitStatus after printing our sentence and
// a pointer to --help on stderr).
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

}  // namespace postern::cli
