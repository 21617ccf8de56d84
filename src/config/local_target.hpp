// Where mail for local mailboxes goes: [delivery] local (SPEC §1.12).
//   "maildir"             postern's own Maildir writer (the default)
//   "lmtp:unix:/path"     LMTP (RFC 2033) on a UNIX socket, e.g. Dovecot's
//   "lmtp:HOST:PORT"      LMTP over TCP, "lmtp:127.0.0.1:24", "lmtp:[::1]:24"
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace postern::config {

struct LocalTarget {
  enum class Kind { maildir, lmtp_unix, lmtp_tcp };
  Kind kind = Kind::maildir;
  std::filesystem::path socket;  // lmtp_unix
  std::string host;              // lmtp_tcp, without brackets
  std::uint16_t port = 0;        // lmtp_tcp
  std::string text() const;      // as it would be written in the file
};

// nullopt with the reason in `why` when `text` is none of the forms above.
// A relative socket path is kept as written (the loader resolves it).
std::optional<LocalTarget> parse_local_target(std::string_view text, std::string& why);

}  // namespace postern::config
