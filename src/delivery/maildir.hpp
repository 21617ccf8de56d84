// Delivery into a Maildir (the layout Dovecot and every Maildir reader
// expects): write into tmp/, fsync, link into new/, fsync new/.
// Mailbox path: <mail_root>/<domain>/<local>/ with the domain lowercased.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace postern::delivery {

// Folder for an address, or an empty path when the address cannot be mapped
// safely (a local part with '/', "..", NUL or control bytes).
std::filesystem::path maildir_for(const std::filesystem::path& mail_root, std::string_view address);

// The mailbox's Junk folder in Dovecot's Maildir++ layout: <mailbox>/.Junk
// with cur/, new/, tmp/ and the empty `maildirfolder` marker, created
// (durably) when missing. Where a DMARC p=quarantine failure goes under
// dmarc_policy = "enforce" (SPEC §1.8). Empty path and `error` set when it
// cannot be made.
std::filesystem::path junk_folder(const std::filesystem::path& mailbox, std::error_code& error);

struct MaildirResult {
  std::error_code error;
  std::filesystem::path file;  // the delivered file in new/ (or cur/ when already there)
  bool already = false;        // an earlier delivery of the same `unique` name was found
};

// Delivers `data` (a complete message with CRLF line endings) prepended with
// `Return-Path:` and `Delivered-To:` headers. Maildir files use LF line
// endings as Maildir readers expect.
MaildirResult deliver_to_maildir(const std::filesystem::path& mailbox, std::string_view return_path,
                                 std::string_view delivered_to, std::string_view data);

// Exactly-once delivery of one queued message to one recipient. The file
// name is `unique` (derived from the queue id and the recipient, see
// maildir_unique_name) plus ",S=<size>", the same on every attempt, so an
// attempt after a crash that came between the link into new/ and the
// queue's record of it finds the earlier file and writes nothing. new/ is
// always checked (one stat); cur/, where a reader moves messages it has
// seen (appending ":2,<flags>"), is scanned only when `look_in_cur` is set,
// because that costs a directory read: the queue runner sets it for
// messages whose results may not have been recorded (resumed at start-up,
// or after a failed queue update).
MaildirResult deliver_once_to_maildir(const std::filesystem::path& mailbox, std::string_view unique,
                                      bool look_in_cur, std::string_view return_path,
                                      std::string_view delivered_to, std::string_view data);

// "<arrival seconds>.<queue id>_<recipient index>.<host>": the Maildir
// convention time.unique.host, with nothing in it that changes between
// attempts.
std::string maildir_unique_name(std::int64_t arrival_seconds, std::string_view queue_id,
                                std::size_t recipient_index);

}  // namespace postern::delivery
