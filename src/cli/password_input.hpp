// Passwords for probe, send and user come from standard input or the
// environment, never from the command line (where `ps` shows them). An
// empty one is refused before anything is tried: it is always a mistake
// (a variable that expanded to nothing, a file that was empty), and trying
// it would cost an AUTH failure that counts against the account.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postern::cli {

// The first line of standard input without its line ending; nullopt (after
// saying so, prefixed with `who`) when it is empty or there is none.
std::optional<std::string> read_password_stdin(std::string_view who);

// The value of the environment variable `name`; nullopt (after saying
// so) when it is unset or empty.
std::optional<std::string> read_password_env(std::string_view who, const std::string& name);

// The options --user, --password-stdin and --password-env VAR of probe and
// send: with a user, its password from one of the two (into `password`);
// without one, neither may be given. False (after saying why, prefixed with
// `who`) on a mistake or a password that cannot be read.
bool read_user_password(std::string_view who, const std::string& user, bool password_stdin,
                        const std::string& password_env, std::optional<std::string>& password);

}  // namespace postern::cli
