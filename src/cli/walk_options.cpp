#include "cli/walk_options.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli/password_input.hpp"

namespace postern::cli {

void add_tls_and_login_options(CLI::App& command, WalkCliOptions& options) {
  command.add_option("--tls", options.tls, "auto (find out), starttls, implicit or none")
      ->check(CLI::IsMember({"auto", "starttls", "implicit", "none"}))
      ->capture_default_str();
  command.add_option("--user", options.user, "authenticate as this user (AUTH PLAIN or LOGIN)");
  command.add_flag("--password-stdin", options.password_stdin,
                   "read the password from the first line of standard input");
  command.add_option("--password-env", options.password_env,
                     "read the password from this environment variable");
}

void add_connection_options(CLI::App& command, WalkCliOptions& options) {
  command.add_flag("--json", options.json, "print the result as JSON (schema 1)");
  auto* v4 = command.add_flag("-4,--ipv4", options.ipv4, "use IPv4 addresses only");
  command.add_flag("-6,--ipv6", options.ipv6, "use IPv6 addresses only")->excludes(v4);
  command.add_option("--ca-file", options.ca_file, "also trust the CA certificates in this file")
      ->check(CLI::ExistingFile);
  command.add_option("--resolver", options.resolver,
                     "ask this DNS server (IP[:PORT]) instead of the system's");
  command.add_option("--helo", options.helo, "name to send in EHLO (default: this host's name)");
  command.add_flag("-v,--verbose", options.verbose,
                   "print the SMTP transcript (AUTH secrets masked)");
}

void apply_walk_options(const WalkCliOptions& c, probe::ProbeOptions& o) {
  o.tls = tls_choice(c.tls);
  o.ipv4_only = c.ipv4;
  o.ipv6_only = c.ipv6;
  o.ca_file = c.ca_file;
  o.resolver = c.resolver;
  o.helo_name = c.helo;
  if (c.verbose) {
    std::ostream& out = c.json ? std::cerr : std::cout;
    o.transcript = [&out](const probe::TranscriptLine& line) { print_transcript_line(line, out); };
  }
}

bool read_walk_password(std::string_view who, const WalkCliOptions& c, probe::ProbeOptions& o) {
  if (!c.user.empty()) o.user = c.user;  // an empty one would mean AUTH as ""
  return read_user_password(who, c.user, c.password_stdin, c.password_env, o.password);
}

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
