// The command line of sendmail(8) as applications use it (PHP's mail(),
// cron, git send-email, monitoring scripts). Parsed by hand rather than by
// CLI11 because its conventions are not GNU ones: option letters glue to
// their values ("-fme@x", "-oi", "-odi", "-oem"), flags combine ("-ti"),
// and unknown historical options must be tolerated, not refused.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace postern::control {

struct SendmailArgs {
  std::vector<std::string> recipients;
  bool recipients_from_headers = false;  // -t
  bool verify = false;                   // -bv: say where the recipients go, send nothing
  std::optional<std::string> sender;     // -f / -r; "" or "<>" is the null sender
  std::string full_name;                 // -F
  std::string config_path;               // --config FILE
  bool help = false;                     // --help
  std::string error;                     // usage error; non-empty means exit 64
};

// `args` excludes the program name. Accepted and ignored, as other MTAs'
// sendmail do: -i, -oi (a lone "." never ends the message: we always read
// to end of input), -o<anything> (-odi, -odb, -oem, -oep...), -v, -m, -U,
// -G, -n, -bm (the default mode), and the value-taking -B, -N, -R, -V, -L,
// -O, -h, -p, -C. -bv answers where each recipient goes (like `postern
// addresses show`) without sending. Other modes (-bs, -bp, -bd, -bt, -q...)
// are usage errors that name the postern command to use instead.
SendmailArgs parse_sendmail_args(const std::vector<std::string>& args);

// "" for "", "<>" and "<>"-like input; the address without angle brackets
// otherwise ("<a@b>" -> "a@b").
std::string normalize_sender(const std::string& sender);

}  // namespace postern::control
