#include "addresses/book_loader.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace postern::addresses {
namespace {

bool read_file(const std::filesystem::path& file, std::string& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return !in.bad();
}

}  // namespace

FileStamp FileStamp::of(const std::filesystem::path& file) {
  FileStamp s;
  if (file.empty()) return s;
  std::error_code ec;
  const auto t = std::filesystem::last_write_time(file, ec);
  if (ec) return s;
  s.exists = true;
  s.mtime = t;
  s.size = std::filesystem::file_size(file, ec);
  return s;
}

std::vector<std::string> read_srs_secrets(const std::filesystem::path& file,
                                          std::vector<BookProblem>& problems) {
  std::vector<std::string> secrets;
  std::string text;
  if (!read_file(file, text)) {
    problems.push_back({true, file.string(), "cannot read the SRS secret file",
                        "create it with a long random line, readable only by postern: "
                        "head -c 32 /dev/urandom | base64 > " +
                            file.string() + " && chmod 600 " + file.string()});
    return secrets;
  }
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) secrets.push_back(line);
  }
  if (secrets.empty()) {
    problems.push_back({true, file.string(), "the SRS secret file is empty",
                        "write a long random line into it (head -c 32 /dev/urandom | base64)"});
  } else if (secrets.front().size() < 16) {
    problems.push_back({false, file.string(), "the SRS secret is shorter than 16 characters",
                        "use a long random line (head -c 32 /dev/urandom | base64)"});
  }
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    problems.push_back({false, file.string(),
                        "the SRS secret file is readable by other users: whoever reads it can "
                        "make SRS addresses we accept, and use this server to relay bounces",
                        "chmod 600 " + file.string()});
  }
  return secrets;
}

LoadedBook load_address_book(const config::Config& config, const std::vector<std::string>& users) {
  LoadedBook out;
  const config::AddressesConfig& a = config.addresses;
  BookSettings s;
  s.local_domains = config.local_domains;
  s.recipient_delimiter = a.recipient_delimiter;
  s.default_domain = a.effective_default_domain(config.hostname, config.local_domains);
  s.postmaster = a.postmaster;
  s.abuse = a.abuse;
  if (!a.srs_secret_file.empty()) {
    s.srs.secrets = read_srs_secrets(a.srs_secret_file, out.problems);
    s.srs.domain = a.effective_srs_domain(config.hostname, config.local_domains);
  }
  std::vector<AliasEntry> aliases;
  std::string name = "aliases";
  if (!a.aliases_file.empty()) {
    name = a.aliases_file.string();
    std::string text;
    if (!read_file(a.aliases_file, text)) {
      out.problems.push_back({true, name, "cannot read the aliases file",
                              "create it (it may be empty) or remove aliases_file from "
                              "[addresses]"});
    } else {
      AliasFile file = parse_aliases(text, name, s.default_domain);
      for (auto& e : file.errors) {
        // "file:line: message (fix)" -> where + message.
        const auto colon = e.find(": ", name.size());
        out.problems.push_back({true, e.substr(0, colon), e.substr(colon + 2), ""});
      }
      aliases = std::move(file.entries);
    }
  }
  auto book = std::make_shared<const AddressBook>(std::move(s), users, std::move(aliases), name);
  for (const auto& p : book->problems()) out.problems.push_back(p);
  for (const auto& p : out.problems) {
    if (p.error) return out;
  }
  out.book = std::move(book);
  return out;
}

}  // namespace postern::addresses
