#include "control/sendmail_args.hpp"

#include <string_view>

namespace postern::control {
namespace {

// Letters that take a value, glued ("-fme@x") or as the next argument.
constexpr std::string_view kValueLetters = "frFoOBNRVLhpCb";
// Letters that are flags and may be combined ("-ti").
constexpr std::string_view kFlagLetters = "tivmUGn";

std::string mode_error(std::string_view mode) {
  if (mode == "s") return "-bs (SMTP on standard input) is not supported; use `postern send`";
  if (mode == "p") return "-bp (list the queue) is not supported here; use `postern queue list`";
  if (mode == "d" || mode == "D")
    return "-bd (run as a daemon) is not supported; use `postern serve`";
  return "-b" + std::string(mode) + " is not supported (only -bm, the default, and -bv are)";
}

}  // namespace

std::string normalize_sender(const std::string& sender) {
  std::string s = sender;
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  return s;
}

SendmailArgs parse_sendmail_args(const std::vector<std::string>& args) {
  SendmailArgs out;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.empty() || arg[0] != '-' || arg == "-") {
      if (arg.empty()) continue;
      out.recipients.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "--help") {
      out.help = true;
      continue;
    }
    if (arg.rfind("--config", 0) == 0) {
      if (arg.size() > 8 && arg[8] == '=') {
        out.config_path = arg.substr(9);
      } else if (arg.size() == 8 && i + 1 < args.size()) {
        out.config_path = args[++i];
      } else {
        out.error = arg.size() == 8 ? "--config needs a file name" : "unknown option " + arg;
        return out;
      }
      continue;
    }
    if (arg.size() > 1 && arg[1] == '-') {
      out.error = "unknown option " + arg;
      return out;
    }
    // One or more letters after '-'.
    for (std::size_t k = 1; k < arg.size(); ++k) {
      const char letter = arg[k];
      if (kFlagLetters.find(letter) != std::string_view::npos) {
        if (letter == 't') out.recipients_from_headers = true;
        continue;  // -i, -v, -m, -U, -G, -n: accepted, nothing to do
      }
      if (kValueLetters.find(letter) == std::string_view::npos) {
        out.error = std::string("unknown option -") + letter;
        return out;
      }
      std::string value;
      if (k + 1 < arg.size()) {
        value = arg.substr(k + 1);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        out.error = std::string("option -") + letter + " needs a value";
        return out;
      }
      switch (letter) {
        case 'f':
        case 'r':
          out.sender = value;
          break;
        case 'F':
          out.full_name = value;
          break;
        case 'b':
          if (value == "v") {
            out.verify = true;
          } else if (value != "m") {
            out.error = mode_error(value);
            return out;
          }
          break;
        default:
          // -o<option> (-oi, -odi, -oem), -O, -B, -N, -R, -V, -L, -h, -p,
          // -C: accepted for compatibility; none changes what we do.
          break;
      }
      break;  // the value used the rest of this argument
    }
  }
  return out;
}

}  // namespace postern::control
