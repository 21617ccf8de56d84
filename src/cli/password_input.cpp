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

bool read_user_password(std::string_view who, const std::string& user, bool password_stdin,
                        const std::string& password_env, std::optional<std::string>& password) {
  if (user.empty()) {
    if (password_stdin || !password_env.empty()) {
      std::cerr << who << ": --password-stdin/--password-env need --user\n";
      return false;
    }
    return true;
  }
  if (password_stdin) {
    password = read_password_stdin(who);
  } else if (!password_env.empty()) {
    password = read_password_env(who, password_env);
  } else {
    std::cerr << who
              << ": --user needs the password: --password-stdin (on standard input) or "
                 "--password-env VAR\n";
    return false;
  }
  return password.has_value();
}

}  // namespace postern::cli
