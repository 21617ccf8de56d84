// Builds the AddressBook from the configuration and the files it names:
// the users (already loaded), [addresses] aliases_file and srs_secret_file.
// The edge around the pure book: it reads files and nothing else.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "addresses/address_book.hpp"
#include "config/config.hpp"

namespace postern::addresses {

struct LoadedBook {
  std::shared_ptr<const AddressBook> book;  // null when there are errors
  std::vector<BookProblem> problems;        // errors and warnings, file:line
  bool ok() const { return book != nullptr; }
};

LoadedBook load_address_book(const config::Config& config, const std::vector<std::string>& users);

// The SRS secrets: one per non-empty line, the first signs (rotation:
// put the new one first). Problems when missing, empty or readable by
// others (a leaked secret lets anyone use us as a relay for bounces).
std::vector<std::string> read_srs_secrets(const std::filesystem::path& file,
                                          std::vector<BookProblem>& problems);

// A file's identity for "reload when it changed": modification time and
// size; absent files compare equal to each other.
struct FileStamp {
  bool exists = false;
  std::filesystem::file_time_type mtime{};
  std::uintmax_t size = 0;
  static FileStamp of(const std::filesystem::path& file);
  bool operator==(const FileStamp&) const = default;
};

}  // namespace postern::addresses
