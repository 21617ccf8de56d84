// `postern user add|passwd|del|list`: manages the users file. The running
// server notices the change within seconds; no restart is needed.
//
// Exit status: 0 done, 1 the change could not be made (user exists, no such
// user, file not writable), 2 usage errors.
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>

#include "auth/password_generator.hpp"
#include "auth/user_store.hpp"
#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "config/config.hpp"

namespace postern::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct UserOptions {
  std::string action;
  std::string address;
  std::string config_path;
  std::string users_file;
  bool password_stdin = false;
  bool generate = false;
};

struct Target {
  std::filesystem::path users_file;
  std::optional<ConfigChoice> choice;  // unset with --users-file alone
  std::vector<std::string> local_domains;
};

std::optional<Target> find_target(const UserOptions& o) {
  Target t;
  if (!o.users_file.empty()) {
    // --users-file alone needs no configuration (the test harness and
    // provisioning scripts use it); local_domains then stay unknown.
    t.users_file = o.users_file;
    if (o.config_path.empty()) return t;
  }
  auto found = find_config("postern user", o.config_path);
  if (!found) return std::nullopt;
  if (t.users_file.empty()) t.users_file = found->config.auth.users_file;
  t.local_domains = found->config.local_domains;
  t.choice = found->choice;
  return t;
}

std::string read_line_from_stdin() {
  std::string line;
  std::getline(std::cin, line);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

std::optional<std::string> prompt_hidden(const char* prompt) {
  termios old{};
  if (tcgetattr(STDIN_FILENO, &old) != 0) return std::nullopt;
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  std::cerr << prompt << std::flush;
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string line = read_line_from_stdin();
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << "\n";
  return line;
}

// Returns the new password, or nullopt after printing why there is none.
std::optional<std::string> obtain_password(const UserOptions& o, bool& generated) {
  generated = false;
  if (o.generate) {
    generated = true;
    return auth::generate_password();
  }
  if (o.password_stdin) {
    std::string p = read_line_from_stdin();
    if (p.empty()) {
      std::cerr << "postern user: empty password on standard input\n";
      return std::nullopt;
    }
    return p;
  }
  if (!isatty(STDIN_FILENO)) {
    std::cerr << "postern user: no terminal to ask for the password; use --password-stdin "
                 "(password on standard input) or --generate\n";
    return std::nullopt;
  }
  auto first = prompt_hidden("New password: ");
  auto second = prompt_hidden("Repeat password: ");
  if (!first || !second || first->empty()) {
    std::cerr << "postern user: no password given\n";
    return std::nullopt;
  }
  if (*first != *second) {
    std::cerr << "postern user: the two passwords differ; nothing changed\n";
    return std::nullopt;
  }
  return first;
}

void warn_if_not_local(const std::string& address, const Target& t) {
  const auto at = address.rfind('@');
  if (at == std::string::npos || t.local_domains.empty()) return;
  const std::string domain = auth::normalize_address(address).substr(at + 1);
  for (const auto& d : t.local_domains) {
    if (d == domain) return;
  }
  std::cerr << "postern user: warning: " << domain
            << " is not in local_domains; this user can authenticate and submit, but mail to "
            << address << " will not be delivered locally\n";
}

int run_user(const UserOptions& o) {
  auto target = find_target(o);
  if (!target) return kExitFailed;
  const auto& file = target->users_file;
  std::vector<std::string> problems;
  std::error_code ec;
  auto store = auth::UserStore::load(file, &problems, ec);
  if (ec) {
    std::cerr << "postern user: cannot read " << file.string() << ": " << ec.message() << "\n";
    return kExitFailed;
  }
  for (const auto& p : problems) std::cerr << "postern user: warning: " << p << "\n";

  if (target->choice && target->choice->origin != ConfigChoice::Origin::option) {
    std::cerr << "postern user: users file " << file.string() << " from "
              << describe(*target->choice) << "\n";
  }
  if (o.action == "list") {
    for (const auto& a : store.addresses()) std::cout << a << "\n";
    return kExitOk;
  }
  if (o.address.empty()) {
    std::cerr << "postern user " << o.action << ": an ADDRESS is required\n";
    return kExitUsage;
  }
  if (o.action == "del") {
    if (!store.remove(o.address)) {
      std::cerr << "postern user: no user " << o.address << " in " << file.string() << "\n";
      return kExitFailed;
    }
  } else {
    const bool adding = o.action == "add";
    if (adding && store.exists(o.address)) {
      std::cerr << "postern user: " << o.address << " already exists; use `postern user passwd "
                << o.address << "` to change its password\n";
      return kExitFailed;
    }
    if (!adding && !store.exists(o.address)) {
      std::cerr << "postern user: no user " << o.address << " in " << file.string()
                << "; add it with `postern user add " << o.address << "`\n";
      return kExitFailed;
    }
    bool generated = false;
    auto password = obtain_password(o, generated);
    if (!password) return kExitUsage;
    const std::string hash = auth::hash_password(*password);
    const bool ok = adding ? store.add(o.address, hash) : store.set_hash(o.address, hash);
    if (!ok) {
      std::cerr << "postern user: " << o.address
                << " is not a usable address (one '@', no spaces or ':')\n";
      return kExitUsage;
    }
    if (generated) std::cout << "password: " << *password << "  (shown only this once)\n";
    if (adding) warn_if_not_local(o.address, *target);
  }
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  // The file is replaced by a new one; root keeps its owner and group, so
  // the server, which reads it as its own user (docs/service.md), still can.
  struct stat before {};
  const bool existed = ::stat(file.c_str(), &before) == 0;
  if (auto err = store.save(file)) {
    std::cerr << "postern user: cannot write " << file.string() << ": " << err.message()
              << "; nothing changed\n";
    return kExitFailed;
  }
  if (existed && ::geteuid() == 0 && ::chown(file.c_str(), before.st_uid, before.st_gid) != 0) {
    std::cerr << "postern user: warning: cannot give " << file.string()
              << " back to its owner: " << std::strerror(errno) << "\n";
  }
  const char* verb = o.action == "add"   ? "added to"
                     : o.action == "del" ? "removed from"
                                         : "updated in";
  std::cout << "postern user: " << o.address << " " << verb << " " << file.string()
            << "; a running postern picks this up within a few seconds\n";
  return kExitOk;
}

}  // namespace

Command add_user(CLI::App& app) {
  auto* sub = app.add_subcommand("user", "Manage the users who may submit mail");
  auto options = std::make_shared<UserOptions>();
  sub->require_subcommand(1);
  add_config_option(*sub, options->config_path, "its [auth] users_file");
  sub->add_option("--users-file", options->users_file, "Users file to edit (overrides --config)");
  auto add_action = [&](const char* name, const char* help, bool takes_address,
                        bool takes_password) {
    auto* a = sub->add_subcommand(name, help);
    if (takes_address) a->add_option("address", options->address, "Email address")->required();
    if (takes_password) {
      a->add_flag("--password-stdin", options->password_stdin,
                  "Read the password from standard input (one line)");
      a->add_flag("--generate", options->generate, "Generate a strong password and print it once");
    }
    add_config_option(*a, options->config_path, "its [auth] users_file");
    a->add_option("--users-file", options->users_file, "Users file to edit");
    a->callback([options, name] { options->action = name; });
  };
  add_action("add", "Add a user", true, true);
  add_action("passwd", "Change a user's password", true, true);
  add_action("del", "Remove a user", true, false);
  add_action("list", "List users", false, false);
  return {sub, [options] { return run_user(*options); }};
}

}  // namespace postern::cli
