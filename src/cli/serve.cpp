// `postern serve [--config FILE]`: runs the server. Without --config it runs
// the embedded default (SPEC §2), creating what a first start needs.
#include <iostream>

#include "app/server.hpp"
#include "auth/password_generator.hpp"
#include "auth/user_store.hpp"
#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "config/config.hpp"
#include "config/generated_certificate.hpp"
#include "spool/data_dir_lock.hpp"
#include "tls/certificate.hpp"

namespace postern::cli {
namespace {

// The embedded default's first user. postmaster is the one address every
// mail domain must have (RFC 5321 §4.5.1).
constexpr const char* kFirstUser = "postmaster@localhost";

void generate_certificate(const config::Config& config) {
  std::filesystem::create_directories(config.tls.cert.parent_path());
  std::filesystem::create_directories(config.tls.key.parent_path());
  const std::string err =
      tls::generate_self_signed(config.tls.cert, config.tls.key, config.hostname);
  if (!err.empty()) throw std::runtime_error("cannot create a self-signed certificate: " + err);
  std::cout << "postern: first start: created a self-signed certificate " << config.tls.cert
            << " for " << config.hostname << "\n";
}

void prepare_embedded_default(const config::Config& config) {
  std::filesystem::create_directories(config.data_dir);
  if (!std::filesystem::exists(config.tls.cert) || !std::filesystem::exists(config.tls.key)) {
    std::filesystem::create_directories(config.tls.cert.parent_path());
    const std::string err =
        tls::generate_self_signed(config.tls.cert, config.tls.key, config.hostname);
    if (!err.empty()) throw std::runtime_error("cannot create a self-signed certificate: " + err);
    std::cout << "postern: first start: created a self-signed certificate " << config.tls.cert
              << "\n";
  }
  std::vector<std::string> problems;
  std::error_code ec;
  auto users = auth::UserStore::load(config.auth.users_file, &problems, ec);
  if (ec) throw std::runtime_error("cannot read " + config.auth.users_file.string());
  if (!users.addresses().empty()) return;
  const std::string password = auth::generate_password();
  users.add(kFirstUser, auth::hash_password(password));
  if (auto err = users.save(config.auth.users_file)) {
    throw std::runtime_error("cannot write " + config.auth.users_file.string() + ": " +
                             err.message());
  }
  std::cout << "postern: first start: created user " << kFirstUser << "\n"
            << "  user:     " << kFirstUser << "\n"
            << "  password: " << password << "\n"
            << "  (shown only this once; change it with `postern user passwd " << kFirstUser
            << "`)\n"
            << std::flush;
}

void print_problems(const std::vector<config::Problem>& problems) {
  for (const auto& p : problems) {
    std::cerr << p.where << ": "
              << (p.severity == config::Problem::Severity::error ? "error" : "warning") << ": "
              << p.message << "\n";
    if (!p.fix.empty()) std::cerr << "    fix: " << p.fix << "\n";
  }
}

// One server per data_dir, decided before anything in it is created,
// recovered or delivered (spool/data_dir_lock.hpp). Throws, naming the
// running server's pid, when another one holds it.
std::unique_ptr<spool::DataDirLock> lock_data_dir(const config::Config& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    throw std::runtime_error("cannot create data_dir " + config.data_dir.string() + ": " +
                             ec.message());
  }
  return spool::DataDirLock::acquire(config.data_dir);
}

}  // namespace

Command add_serve(CLI::App& app) {
  auto* sub = app.add_subcommand("serve", "Run the mail server");
  auto config_path = std::make_shared<std::string>();
  add_config_option(*sub, *config_path);
  return {sub, [config_path]() -> int {
            config::Config config;
            std::unique_ptr<spool::DataDirLock> lock;
            const ConfigChoice choice = choose_config(*config_path);
            std::cout << "postern serve: configuration: " << describe(choice) << std::endl;
            if (choice.origin == ConfigChoice::Origin::embedded) {
              config = config::embedded_default(std::filesystem::current_path());
              // The first start writes a certificate and a user into the
              // data_dir: only the server that owns it may do that.
              lock = lock_data_dir(config);
              prepare_embedded_default(config);
            } else {
              auto loaded = config::load_file(choice.path);
              if (!loaded.config) {
                print_problems(loaded.problems);
                std::cerr << "postern: not starting: fix the errors above (`postern check "
                             "--config "
                          << choice.path.string() << "` lists them)\n";
                return 1;
              }
              config = std::move(*loaded.config);
              if (config::certificate_generated_on_start(config)) {
                lock = lock_data_dir(config);  // as for the embedded default's first start
                generate_certificate(config);
              }
            }
            auto problems = config::lint(config);
            bool fatal = false;
            for (const auto& p : problems) fatal |= p.severity == config::Problem::Severity::error;
            print_problems(problems);
            if (fatal) {
              std::cerr << "postern: not starting: the configuration has errors\n";
              return 1;
            }
            if (!lock) lock = lock_data_dir(config);
            app::Server server(std::move(config));
            return server.run();
          }};
}

}  // namespace postern::cli
