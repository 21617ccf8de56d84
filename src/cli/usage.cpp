#include "cli/usage.hpp"

#include <algorithm>
#include <iostream>
#include <string_view>

namespace postern::cli {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

// CLI11 names a positional by its variable name ("address") and an option by
// its flags ("--config,-c"); the first form is what the user typed.
std::string first_name(std::string_view name) {
  const auto comma = name.find(',');
  return std::string(name.substr(0, comma));
}

// "NAME: rest" -> NAME (CLI11's ArgumentMismatch and ValidationError).
std::string before_colon(std::string_view message) {
  const auto colon = message.find(':');
  return first_name(message.substr(0, colon == std::string_view::npos ? 0 : colon));
}

std::string after_colon(std::string_view message) {
  const auto colon = message.find(':');
  if (colon == std::string_view::npos) return std::string(message);
  std::string_view rest = message.substr(colon + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return std::string(rest);
}

std::string expected_list(const ParseFailure& f) {
  if (f.subcommands.empty()) return "";
  return " (expected one of: " + join(f.subcommands) + ")";
}

// What the user typed, echoed back without control bytes.
std::string shown(const std::string& word) {
  std::string out;
  for (char c : word) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  return out;
}

std::string unexpected(const ParseFailure& f, const std::string& typed) {
  const std::string word = shown(typed);
  if (starts_with(word, "-")) return "unknown option " + word;
  if (!f.subcommands.empty()) return "unknown subcommand " + word + expected_list(f);
  return "unexpected argument " + word;
}

std::string sentence(const ParseFailure& f) {
  const std::string& m = f.message;
  if (f.kind == "RequiredError") {
    // CLI11 checks what is required before what is left over; a word
    // nobody took ("--frob", a misspelt subcommand) is the actual mistake.
    if (!f.leftovers.empty()) return unexpected(f, f.leftovers.front());
    if (starts_with(m, "A subcommand") || starts_with(m, "Requires at least")) {
      return "a subcommand is missing" + expected_list(f);
    }
    const std::string suffix = " is required";
    if (m.size() > suffix.size() && m.ends_with(suffix)) {
      const std::string name = first_name(m.substr(0, m.size() - suffix.size()));
      if (starts_with(name, "-")) return "the option " + name + " is missing";
      return "the " + name + " argument is missing";
    }
    return "a required argument is missing: " + m;
  }
  // CLI11 2.1 names an ExtrasError raised in a subcommand after that
  // subcommand, so the text is what identifies it.
  if (f.kind == "ExtrasError" || starts_with(m, "The following argument")) {
    if (!f.leftovers.empty()) return unexpected(f, f.leftovers.front());
    // "The following argument was not expected: x y": the first is the mistake.
    const std::string words = after_colon(m);
    return unexpected(f, words.substr(0, words.find(' ')));
  }
  if (f.kind == "ArgumentMismatch") {
    const std::string name = before_colon(m);
    if (const auto at = m.find("At Most "); at != std::string::npos && !name.empty()) {
      const std::string most = m.substr(at + 8, m.find(' ', at + 8) - (at + 8));
      return "too many " + name + " arguments (at most " + most + ")";
    }
    if (m.find("Expected exactly") != std::string::npos) return "wrong number of arguments: " + m;
    if (!name.empty() &&
        (m.find("required") != std::string::npos || m.find("missing") != std::string::npos)) {
      return "the option " + name + " needs a value";
    }
    return "wrong number of arguments: " + m;
  }
  if (f.kind == "ValidationError" || f.kind == "ConversionError") {
    const std::string name = before_colon(m);
    if (!name.empty()) return "invalid value for " + name + ": " + after_colon(m);
    return "invalid value: " + m;
  }
  if (f.kind == "ExcludesError") {
    const auto pos = m.find(" excludes ");
    if (pos != std::string::npos) {
      return first_name(m.substr(0, pos)) + " and " + first_name(m.substr(pos + 10)) +
             " cannot be used together";
    }
  }
  if (f.kind == "RequiresError") {
    const auto pos = m.find(" requires ");
    if (pos != std::string::npos) {
      return first_name(m.substr(0, pos)) + " needs " + first_name(m.substr(pos + 10));
    }
  }
  return "usage error: " + m;
}

// The deepest subcommand the parser reached: `postern queue frob` fails in
// `queue`, whose subcommands are what the user should have typed.
const CLI::App* deepest(const CLI::App& root, std::string& path) {
  const CLI::App* current = &root;
  path = "postern";
  for (int depth = 0; depth < 8; ++depth) {
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : current->get_subcommands()) {
      if (sub->parsed()) next = sub;
    }
    if (next == nullptr) break;
    path += " " + next->get_name();
    current = next;
  }
  return current;
}

// An option word that neither the command reached nor its parents know:
// CLI11 may report a missing required option before it reports this one.
bool unknown_option(const CLI::App& reached, const std::string& word) {
  if (word.size() < 2 || word[0] != '-' || word == "--") return false;
  std::string name = word.substr(0, word.find('='));
  if (name.size() > 2 && name[1] != '-') name = name.substr(0, 2);  // -fVALUE, -abc
  for (const CLI::App* a = &reached; a != nullptr; a = a->get_parent()) {
    if (a->get_option_no_throw(name) != nullptr) return false;
    if (name == "-h" || name == "--help" || name == "--version") return false;
  }
  return true;
}

ParseFailure describe(const CLI::ParseError& e, const CLI::App& root,
                      const std::vector<std::string>& args) {
  ParseFailure f;
  f.kind = e.get_name();
  f.message = e.what();
  const CLI::App* reached = deepest(root, f.command);
  for (const CLI::App* sub : reached->get_subcommands({})) {
    if (!sub->get_name().empty()) f.subcommands.push_back(sub->get_name());
  }
  // Words nobody took end up with the command that gave up on them, or
  // with one of its parents.
  for (const CLI::App* a = reached; a != nullptr; a = a->get_parent()) {
    for (auto& word : a->remaining()) f.leftovers.push_back(word);
  }
  if (f.leftovers.empty()) {
    for (const auto& word : args) {
      if (word == "--") break;
      if (unknown_option(*reached, word)) {
        f.leftovers.push_back(word);
        break;
      }
    }
  }
  return f;
}

}  // namespace

std::string explain(const ParseFailure& failure) {
  return failure.command + ": " + sentence(failure);
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help or --version: CLI11 prints them
  } catch (const CLI::ParseError& e) {
    const ParseFailure failure =
        describe(e, app, std::vector<std::string>(argv + std::min(argc, 1), argv + argc));
    std::cerr << explain(failure) << "\n"
              << "Run `" << failure.command << " --help` for the usage.\n";
    return failure.command == "postern sendmail" ? kSendmailUsageExitStatus : kUsageExitStatus;
  }
}

}  // namespace postern::cli
