// Reading a DKIM private key file: the one place beside the pure
// mailauth/dkim module that touches the file system. Used at start-up and
// reload (config), by `postern check`, `postern dkim show` and `postern dns`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "mailauth/dkim/key.hpp"

namespace postern::mailauth {

struct KeyFile {
  std::optional<dkim::PrivateKey> key;
  // Why there is no key, in plain words ("does not exist", "cannot be read:
  // Permission denied", "it is an EC (ECDSA) key; ...").
  std::string error;
  bool missing = false;
  bool world_readable = false;  // mode has o+r (or o+w)
};

KeyFile read_key_file(const std::filesystem::path& path);

// The TXT record value to publish for the key in `path` ("v=DKIM1; k=...;
// p=..."), or nullopt with `error` set.
std::optional<std::string> public_key_record_for_file(const std::filesystem::path& path,
                                                      std::string& error);

}  // namespace postern::mailauth
