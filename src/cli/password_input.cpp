#include "cli/password_input.hpp"

#include <cstdlib>
#include <iostream>

namespace postern::cli {

std::optional<std::string> read_password_stdin(std::string_view who) {
  std::string line;
  std::getline(std::cin, line);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.empty()) {
    std::cerr << who
              << ": --password-stdin: standard input holds no password (empty); nothing was "
                 "tried\n";
    return std::nullopt;
  }
  return line;
}

std::optional<std::string> read_password_env(std::string_view who, const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') {
    std::cerr << who << ": the environment variable " << name << " is "
              << (value == nullptr ? "not set" : "empty") << "; nothing was tried\n";
    return std::nullopt;
  }
  return std::string(value);
}

}  // namespace postern::cli
