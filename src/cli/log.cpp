// `postern log summary [FILE]`: a pflogsumm-like report of postern's own log
// lines (logsum/summary.hpp), read from FILE or standard input ("-" or no
// FILE). Works on the stderr format and on syslog files alike; lines of
// other programs are skipped. Exit status: 0 printed, 1 the file cannot be
// read, 2 usage.
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "logsum/summary.hpp"

namespace postern::cli {
namespace {

struct LogOptions {
  std::string file;
  std::size_t top = 10;
};

int run_summary(const LogOptions& o) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (!o.file.empty() && o.file != "-") {
    file.open(o.file, std::ios::binary);
    if (!file) {
      std::cerr << "postern log summary: cannot read " << o.file << "\n";
      return 1;
    }
    in = &file;
  }
  logsum::SummaryBuilder builder;
  std::string line;
  while (std::getline(*in, line)) builder.add_line(line);
  if (in->bad()) {
    std::cerr << "postern log summary: read error on " << (o.file.empty() ? "stdin" : o.file)
              << "\n";
    return 1;
  }
  logsum::RenderOptions render;
  render.top = o.top;
  std::cout << logsum::render_summary(builder.summary(), render);
  return 0;
}

}  // namespace

Command add_log(CLI::App& app) {
  auto* sub = app.add_subcommand("log", "Read postern's logs");
  sub->require_subcommand(1);
  auto options = std::make_shared<LogOptions>();
  auto* summary = sub->add_subcommand(
      "summary",
      "Summarise a log (as pflogsumm): totals, top senders and recipients, deferral and bounce "
      "reasons, per-hour traffic, AUTH failures by client");
  summary->add_option("file", options->file, "Log file (default: standard input)");
  summary->add_option("--top", options->top, "Rows in each top-N table")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  return {sub, [options] { return run_summary(*options); }};
}

}  // namespace postern::cli
