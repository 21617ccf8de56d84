// Splits SMTP command lines into their parts (RFC 5321 §4.1, with the
// parameters of SIZE RFC 1870, 8BITMIME RFC 6152, SMTPUTF8 RFC 6531, DSN
// RFC 3461, AUTH RFC 4954 §5 and CHUNKING RFC 3030). Pure syntax: what a
// command means in the session's state is decided elsewhere.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postern::smtp {

struct CommandLine {
  std::string verb;       // upper-cased; empty for an empty line
  std::string_view args;  // everything after the first space, untrimmed
};

CommandLine split_command(std::string_view line);

// Strips spaces and tabs at both ends.
std::string_view trim(std::string_view text);

// True when `args` (leading blanks ignored) begins with `keyword`,
// case-insensitively: "from:<a@b>" begins with "FROM:".
bool starts_with_keyword(std::string_view args, std::string_view keyword);

struct PathArgument {
  std::string_view path;    // "<...>" including the angle brackets
  std::string_view params;  // the ESMTP parameters after it, trimmed
};

// Splits "FROM:<path> params" (keyword "FROM:") or "TO:<path> params". The
// keyword is case-insensitive; blanks after the colon are tolerated because
// many clients send them (RFC 5321 §4.1.2 has none). The path ends at the first '>' outside a
// quoted local part. nullopt: no keyword, or no complete "<...>".
std::optional<PathArgument> split_path_argument(std::string_view args, std::string_view keyword);

struct ParamError {
  enum class Kind { unknown, bad_value } kind;
  std::string name;  // the keyword as sent (sanitised by the caller)
};

struct MailParams {
  std::optional<std::size_t> size;  // SIZE=, saturated at SIZE_MAX
  bool eight_bit = false;           // BODY=8BITMIME
  bool smtputf8 = false;            // SMTPUTF8
  std::string ret;                  // RET=FULL|HDRS
  std::string envid;                // ENVID= (xtext, kept encoded)
};

struct RcptParams {
  std::string notify;  // NOTIFY=NEVER | SUCCESS,FAILURE,DELAY (upper-cased)
  std::string orcpt;   // ORCPT=addr-type;xtext (kept encoded)
};

// Each returns the parameters, or the first bad one in `error`.
std::optional<MailParams> parse_mail_params(std::string_view text, ParamError& error);
std::optional<RcptParams> parse_rcpt_params(std::string_view text, ParamError& error);

struct BdatArgs {
  std::size_t size = 0;  // saturated at SIZE_MAX
  bool last = false;
};

// "n" or "n LAST" (LAST case-insensitive).
std::optional<BdatArgs> parse_bdat_args(std::string_view args);

struct AuthArgs {
  std::string mechanism;     // upper-cased
  std::string_view initial;  // initial response, empty when absent
  bool has_initial = false;  // "=" is an empty initial response (RFC 4954 §4)
};

std::optional<AuthArgs> parse_auth_args(std::string_view args);

}  // namespace postern::smtp
