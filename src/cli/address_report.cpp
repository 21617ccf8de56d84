#include "cli/address_report.hpp"

#include <chrono>

#include "addresses/book_loader.hpp"
#include "auth/user_store.hpp"

namespace postern::cli {

std::vector<config::Problem> address_lints(const config::Config& config) {
  std::vector<config::Problem> out;
  std::error_code ec;
  std::vector<std::string> user_problems;
  const auto users = auth::UserStore::load(config.auth.users_file, &user_problems, ec);
  const addresses::LoadedBook loaded = addresses::load_address_book(config, users.addresses());
  for (const auto& p : loaded.problems) {
    out.push_back({p.error ? config::Problem::Severity::error : config::Problem::Severity::warning,
                   p.where, p.message, p.fix});
  }
  return out;
}

int report_addresses(const config::Config& config, const std::vector<std::string>& list,
                     std::ostream& out, std::ostream& err) {
  std::error_code ec;
  std::vector<std::string> user_problems;
  const auto users = auth::UserStore::load(config.auth.users_file, &user_problems, ec);
  if (ec) {
    err << "cannot read the users file " << config.auth.users_file << ": " << ec.message() << "\n";
    return 78;
  }
  const addresses::LoadedBook loaded = addresses::load_address_book(config, users.addresses());
  for (const auto& p : loaded.problems) {
    err << p.where << ": " << (p.error ? "error: " : "warning: ") << p.message
        << (p.fix.empty() ? "" : " (" + p.fix + ")") << "\n";
  }
  if (!loaded.ok()) return 78;
  const addresses::AddressBook& book = *loaded.book;
  const std::string srs = book.settings().srs.secrets.empty()
                              ? "off (no srs_secret_file)"
                              : "SRS0@" + book.settings().srs.domain;
  int status = 0;
  for (const std::string& raw : list) {
    std::string address = raw;
    if (address.size() > 2 && address.front() == '<' && address.back() == '>') {
      address = address.substr(1, address.size() - 2);
    }
    if (address.find('@') == std::string::npos) {
      address = book.canonical(address);  // a bare name: the default domain
    }
    const addresses::Resolution r = book.resolve(address, std::chrono::system_clock::now());
    out << address << ": ";
    switch (r.status) {
      case addresses::Status::deliver:
        out << "delivered (" << r.reason << ")\n";
        break;
      case addresses::Status::not_local:
        out << "not local: " << r.detail << "; sent on as it is (relay rules apply)\n";
        continue;
      case addresses::Status::unknown:
      case addresses::Status::srs_invalid:
        out << "refused at RCPT with 550 5.1.1: " << r.detail << "\n";
        status = 67;
        continue;
      case addresses::Status::loop:
      case addresses::Status::too_deep:
        out << "configuration error: " << r.detail << "\n";
        status = 67;
        continue;
    }
    for (const auto& t : r.targets) {
      if (t.local) {
        const auto at = t.address.rfind('@');
        out << "  mailbox " << t.address << "  ("
            << (config.mail_dir() / t.address.substr(at + 1) / t.address.substr(0, at)).string()
            << ")\n";
      } else {
        out << "  remote  " << t.address << "  (forwarded; envelope sender of mail from other "
            << "servers: " << srs << ")\n";
      }
      for (const auto& step : t.trace) out << "      " << step << "\n";
    }
  }
  return status;
}

}  // namespace postern::cli
