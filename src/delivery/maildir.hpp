// Delivery into a Maildir (the layout Dovecot and every Maildir reader
// expects): write into tmp/, fsync, link into new/, fsync new/.
// Mailbox path: <mail_root>/<domain>/<local>/ with the domain lowercased.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace postern::delivery {

// Folder for an address, or an empty path when the address cannot be mapped
// safely (a local part with '/', "..", NUL or control bytes).
std::filesystem::path maildir_for(const std::filesystem::path& mail_root, std::string_view address);

struct MaildirResult {
  std::error_code error;
  std::filesystem::path file;  // the delivered file in new/
};

// Delivers `data` (a complete message with CRLF line endings) prepended with
// `Return-Path:` and `Delivered-To:` headers. Maildir files use LF line
// endings as Maildir readers expect.
MaildirResult deliver_to_maildir(const std::filesystem::path& mailbox, std::string_view return_path,
                                 std::string_view delivered_to, std::string_view data);

}  // namespace postern::delivery
