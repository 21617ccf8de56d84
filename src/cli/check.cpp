// `postern check [--config FILE] [--print-default] [--quiet]`: loads and lints
// the configuration and prints every problem with file:line and a fix.
// Exit status: 0 no errors (warnings allowed), 1 errors, 2 the file cannot
// be read at all.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>

#include <pwd.h>
#include <unistd.h>

#include "cli/address_report.hpp"
#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "config/config.hpp"
#include "config/lint_service.hpp"
#include "config/redis_url.hpp"
#include "state/redis_probe.hpp"

namespace postern::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitErrors = 1;
constexpr int kExitUnreadable = 2;

struct CheckOptions {
  std::string config_path;
  bool print_default = false;
  bool quiet = false;
};

// [state] url: a Redis this machine cannot reach is a warning, not an
// error: the server runs without it, counting in-process (SPEC §1.10).
void check_state(const config::Config& config, std::vector<config::Problem>& problems) {
  if (config.state.url.empty()) return;
  const auto url = config::parse_redis_url(config.state.url).url;
  if (!url) return;  // the loader reported it
  if (auto why = state::probe_redis(*url, std::chrono::milliseconds(2000))) {
    problems.push_back({config::Problem::Severity::warning, config.where("state.url"),
                        "[state] url " + url->redacted() + " cannot be reached: " + *why,
                        "start Redis there or fix the URL; until then each node counts limits "
                        "and AUTH failures on its own"});
  }
}

bool is_error(const config::Problem& p) {
  return p.severity == config::Problem::Severity::error;
}

void print_problem(std::ostream& out, const config::Problem& p) {
  out << p.where << ": " << (is_error(p) ? "error" : "warning") << ": " << p.message << "\n";
  if (!p.fix.empty()) out << "    fix: " << p.fix << "\n";
}

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

void print_listeners(std::ostream& out, const config::Config& config) {
  std::size_t width = 7;
  for (const auto& l : config.listeners) width = std::max(width, l.address.size());
  out << "  " << std::left << std::setw(static_cast<int>(width) + 2) << "address" << std::setw(12)
      << "role"
      << "tls\n";
  for (const auto& l : config.listeners) {
    out << "  " << std::setw(static_cast<int>(width) + 2) << l.address << std::setw(12)
        << to_string(l.role) << to_string(l.tls) << (l.insecure ? " (insecure)" : "") << "\n";
  }
}

// The embedded default with its relative paths made absolute under the
// current directory: saved anywhere (/etc/postern/postern.toml), the file
// still means the data directory it was printed for, and it passes
// `postern check` as it is (the certificate is generated on the first
// start, config/generated_certificate.hpp).
std::string default_for_saving() {
  std::string text = config::embedded_default_toml();
  const std::string data = (std::filesystem::current_path() / "postern-data").string();
  const std::string from = "\"postern-data";
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + data.size())) {
    text.replace(at + 1, from.size() - 1, data);
  }
  // The embedded default runs as whoever starts it; saved by root on a
  // machine without a postern user, the file says so, or `postern check`
  // (config/lint_service.cpp) would refuse what it just printed.
  if (::geteuid() == 0 && ::getpwnam("postern") == nullptr) {
    const std::string anchor = "\ndata_dir";
    const std::size_t at = text.find(anchor);
    if (at != std::string::npos) {
      const std::size_t eol = text.find('\n', at + 1);
      if (eol != std::string::npos) {
        text.insert(eol + 1,
                    "user          = \"root\"             # no postern user here: create one "
                    "(useradd --system postern) and name it\n");
      }
    }
  }
  return text;
}

int run_check(const CheckOptions& options) {
  if (options.print_default) {
    std::cout << default_for_saving();
    return kExitOk;
  }
  std::vector<config::Problem> problems;
  std::optional<config::Config> config;
  const ConfigChoice choice = choose_config(options.config_path);
  if (choice.origin == ConfigChoice::Origin::embedded) {
    config = config::embedded_default(std::filesystem::current_path());
    if (!options.quiet) {
      std::cout << "postern check: checking " << describe(choice) << ", data in "
                << config->data_dir.string() << "\n";
    }
  } else {
    if (!options.quiet && choice.origin != ConfigChoice::Origin::option) {
      std::cout << "postern check: checking " << describe(choice) << "\n";
    }
    auto loaded = config::load_file(choice.path);
    problems = std::move(loaded.problems);
    if (loaded.unreadable) {
      for (const auto& p : problems) print_problem(std::cout, p);
      return kExitUnreadable;
    }
    config = std::move(loaded.config);
  }
  // Lints need a typed configuration; with load errors the operator fixes
  // those first and the next run shows the rest.
  if (config) {
    auto more = config::lint(*config);
    problems.insert(problems.end(), more.begin(), more.end());
    auto addresses = address_lints(*config);
    problems.insert(problems.end(), addresses.begin(), addresses.end());
    auto service = config::lint_service(*config);
    problems.insert(problems.end(), service.begin(), service.end());
    check_state(*config, problems);
  }

  const auto errors =
      static_cast<std::size_t>(std::count_if(problems.begin(), problems.end(), is_error));
  const std::size_t warnings = problems.size() - errors;
  for (const auto& p : problems) print_problem(std::cout, p);
  if (options.quiet) return errors ? kExitErrors : kExitOk;

  if (errors) {
    std::cout << "postern check: " << plural(errors, "error") << ", " << plural(warnings, "warning")
              << "\n";
    if (!config) {
      std::cout << "postern check: fix these first; further checks (certificates, relay "
                   "networks, data_dir) run once the file loads\n";
    }
    return kExitErrors;
  }
  std::cout << "listeners:\n";
  print_listeners(std::cout, *config);
  std::cout << "postern check: configuration OK"
            << (warnings ? " with " + plural(warnings, "warning") : std::string()) << " ("
            << plural(config->listeners.size(), "listener") << ")\n";
  return kExitOk;
}

}  // namespace

Command add_check(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "check", "Validate and lint the configuration (open relay, AUTH without TLS, certificates)");
  auto options = std::make_shared<CheckOptions>();
  add_config_option(*sub, options->config_path);
  sub->add_flag("--print-default", options->print_default,
                "Print a starting configuration (the embedded default with absolute paths) "
                "and exit");
  sub->add_flag("--quiet,-q", options->quiet, "Print only the problems");
  return {sub, [options]() -> int { return run_check(*options); }};
}

}  // namespace postern::cli
