// The one place where postern makes bytes durable on disk. Every file whose
// loss would lose mail or configuration is written here: temp file, write,
// fsync, rename, fsync the directory (so the new name survives a crash too).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace postern {

// Writes `data` to `path` atomically and durably. On failure returns the
// error and leaves no partial file under `path`. `mode` is the permission
// of the new file.
std::error_code write_file_durably(const std::filesystem::path& path, std::string_view data,
                                   unsigned mode = 0600);

// fsyncs a directory so that entries created or renamed in it survive a crash.
std::error_code fsync_directory(const std::filesystem::path& dir);

// Reads a whole file; returns false with `ec` set on failure.
bool read_file(const std::filesystem::path& path, std::string& out, std::error_code& ec);

}  // namespace postern
