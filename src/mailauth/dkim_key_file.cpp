#include "mailauth/dkim_key_file.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace postern::mailauth {

KeyFile read_key_file(const std::filesystem::path& path) {
  KeyFile f;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    f.missing = errno == ENOENT;
    f.error =
        f.missing ? "does not exist" : fmt::format("cannot be read: {}", std::strerror(errno));
    return f;
  }
  f.world_readable = (st.st_mode & (S_IROTH | S_IWOTH)) != 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    f.error = fmt::format("cannot be read: {}", std::strerror(errno));
    return f;
  }
  std::ostringstream text;
  text << in.rdbuf();
  dkim::PrivateKeyResult k = dkim::parse_private_key(text.str());
  if (!k.key) {
    f.error = std::move(k.error);
    return f;
  }
  f.key = std::move(k.key);
  return f;
}

std::optional<std::string> public_key_record_for_file(const std::filesystem::path& path,
                                                      std::string& error) {
  KeyFile f = read_key_file(path);
  if (!f.key) {
    error = fmt::format("{}: {}", path.string(), f.error);
    return std::nullopt;
  }
  return dkim::public_key_record(*f.key);
}

}  // namespace postern::mailauth
