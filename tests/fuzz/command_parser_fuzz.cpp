// The SMTP command line parser (smtp/command_parser.hpp) and the path
// parser behind MAIL FROM / RCPT TO (policy/address.hpp), as a server sees
// them: one line of client input.
#include <cstdint>

#include "core/text.hpp"
#include "fuzz_input.hpp"
#include "policy/address.hpp"
#include "smtp/command_parser.hpp"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const smtp::CommandLine cmd = smtp::split_command(line);
  // args is a view into the line: never outside it.
  if (!cmd.args.empty()) {
    FUZZ_CHECK(cmd.args.data() >= line.data() &&
               cmd.args.data() + cmd.args.size() <= line.data() + line.size());
  }
  smtp::ParamError error{};
  for (const std::string_view keyword : {"FROM:", "TO:"}) {
    const auto path = smtp::split_path_argument(cmd.args, keyword);
    if (!path) continue;
    FUZZ_CHECK(path->path.size() >= 2 && path->path.front() == '<' && path->path.back() == '>');
    for (const bool utf8 : {false, true}) {
      if (const auto parsed = policy::parse_path(path->path, utf8); parsed && !parsed->null) {
        // What we would write back into a queue file parses again, the same.
        const auto again = policy::parse_path("<" + parsed->mailbox.text() + ">", utf8);
        FUZZ_CHECK(again && again->mailbox.text() == parsed->mailbox.text());
      }
    }
    if (keyword == "FROM:") {
      smtp::parse_mail_params(path->params, error);
    } else {
      smtp::parse_rcpt_params(path->params, error);
    }
  }
  smtp::parse_bdat_args(cmd.args);
  if (const auto auth = smtp::parse_auth_args(cmd.args)) {
    FUZZ_CHECK(ascii_upper(auth->mechanism) == auth->mechanism);
  }
  smtp::starts_with_keyword(cmd.args, "FROM:");
  return 0;
}
