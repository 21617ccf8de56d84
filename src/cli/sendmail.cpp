// `postern sendmail` (also run when the binary is invoked as `sendmail`):
// the interface applications expect from /usr/sbin/sendmail. It reads the
// message from standard input to its end, hands it to the running server
// through <data_dir>/control.sock, and exits 0 only once the server has
// stored it durably. It keeps no queue of its own: when the server is not
// running it exits 75 (EX_TEMPFAIL) and the application keeps the message.
//
// Exit status (sysexits.h): 0 queued; 64 usage; 65 message refused (too
// large, malformed); 67 unknown local recipient; 70 internal error; 74 I/O
// error reading the message; 75 temporary failure (server not running,
// storage trouble, timeout); 78 configuration unusable.
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/control_target.hpp"
#include "control/control_client.hpp"
#include "control/control_protocol.hpp"
#include "control/sendmail_args.hpp"
#include "control/sendmail_message.hpp"

namespace postern::cli {
namespace {

constexpr int kExOk = 0;
constexpr int kExUsage = 64;
constexpr int kExDataErr = 65;
constexpr int kExNoUser = 67;
constexpr int kExSoftware = 70;
constexpr int kExIoErr = 74;
constexpr int kExTempFail = 75;
constexpr int kExConfig = 78;

// The server answers after its group commit; this only bounds a hung server.
constexpr std::chrono::seconds kSubmitTimeout{120};

constexpr const char* kUsage =
    "usage: sendmail [-t] [-i] [-f sender] [-F full-name] [--config FILE] [recipient ...]\n"
    "  Reads a message from standard input and queues it with the running postern.\n"
    "  -t          also send to the To:, Cc: and Bcc: addresses (Bcc: is removed)\n"
    "  -f sender   envelope sender (default: <login>@<hostname from the configuration>)\n"
    "  -F name     display name for the From: header added when the message has none\n"
    "  -i, -oi     accepted: the message always ends at end of input, never at a lone '.'\n"
    "  Accepted and ignored: -odi -odb -oem -v -m -U -G -n -bm -B -N -R -V -L -O -h -p -C\n";

std::string login_name() {
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_name != nullptr) {
    return pw->pw_name;
  }
  return "uid" + std::to_string(::getuid());
}

// Reads all of standard input, up to `limit` bytes (more is refused rather
// than held). False on a read error or when over the limit (`too_big`).
bool read_stdin(std::string& out, std::size_t limit, bool& too_big) {
  too_big = false;
  char buf[65536];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, stdin);
    if (n > 0) {
      if (out.size() + n > limit) {
        too_big = true;
        return false;
      }
      out.append(buf, n);
    }
    if (n < sizeof buf) return std::ferror(stdin) == 0;
  }
}

int exit_code_for(control::ErrorKind kind) {
  switch (kind) {
    case control::ErrorKind::usage:
      return kExUsage;
    case control::ErrorKind::data:
      return kExDataErr;
    case control::ErrorKind::nouser:
      return kExNoUser;
    case control::ErrorKind::notfound:
    case control::ErrorKind::software:
      return kExSoftware;
    case control::ErrorKind::tempfail:
      return kExTempFail;
  }
  return kExSoftware;
}

int run_sendmail(const std::vector<std::string>& raw_args) {
  const control::SendmailArgs args = control::parse_sendmail_args(raw_args);
  if (args.help) {
    std::cout << kUsage;
    return kExOk;
  }
  if (!args.error.empty()) {
    std::cerr << "sendmail: " << args.error << "\n" << kUsage;
    return kExUsage;
  }
  auto config = load_target_config("sendmail", args.config_path);
  if (!config) return kExConfig;

  control::SendmailRequest request;
  request.recipients = args.recipients;
  request.recipients_from_headers = args.recipients_from_headers;
  request.full_name = args.full_name;
  const std::string default_address = login_name() + "@" + config->hostname;
  request.sender = args.sender ? control::normalize_sender(*args.sender) : default_address;
  request.from_address = request.sender.empty() ? default_address : request.sender;

  bool too_big = false;
  if (!read_stdin(request.message, config->limits.max_message_size, too_big)) {
    if (too_big) {
      std::cerr << "sendmail: the message is larger than the maximum message size ("
                << config->limits.max_message_size << " bytes)\n";
      return kExDataErr;
    }
    std::cerr << "sendmail: cannot read the message from standard input\n";
    return kExIoErr;
  }

  const control::SendmailMessage prepared = control::prepare_sendmail_message(request);
  if (!prepared.error.empty()) {
    std::cerr << "sendmail: " << prepared.error << "\n";
    return kExUsage;
  }
  control::SubmitEnvelope envelope{request.sender, prepared.recipients};
  if (!envelope.sender.empty() && !control::is_wire_address(envelope.sender)) {
    std::cerr << "sendmail: bad sender address: " << envelope.sender << "\n";
    return kExUsage;
  }
  for (const auto& r : envelope.recipients) {
    if (!control::is_wire_address(r)) {
      std::cerr << "sendmail: bad recipient address: " << r << "\n";
      return kExUsage;
    }
  }
  const std::string block = control::encode_submit_envelope(envelope);
  std::string wire = control::format_request(
      control::Request{control::Verb::submit, {}, block.size(), prepared.message.size()});
  wire += block;
  wire += prepared.message;

  const auto result = control::call(control_socket(*config), wire, kSubmitTimeout);
  switch (result.status) {
    case control::CallResult::Status::not_running:
      std::cerr << "sendmail: " << not_running_text(*config)
                << "; the message was not sent (try again once postern runs)\n";
      return kExTempFail;
    case control::CallResult::Status::failed:
      std::cerr << "sendmail: " << result.error << "; the message was not sent\n";
      return kExTempFail;
    case control::CallResult::Status::answered:
      break;
  }
  if (!result.response.ok) {
    std::cerr << "sendmail: " << result.response.text << "\n";
    return exit_code_for(result.response.kind);
  }
  return kExOk;
}

}  // namespace

Command add_sendmail(CLI::App& app) {
  auto* sub = app.add_subcommand("sendmail",
                                 "sendmail-compatible submission: message on stdin "
                                 "(-t, -f, -F, -i; see `postern sendmail --help`)");
  // sendmail's options are not GNU-style ("-oi", "-fme@x", "-odi"): every
  // argument after `sendmail` goes to its own parser.
  sub->prefix_command();
  sub->set_help_flag();
  return {sub, [sub] {
            try {
              return run_sendmail(sub->remaining());
            } catch (const std::exception& e) {
              // Whatever went wrong, the message was not queued: the caller
              // may try again (EX_TEMPFAIL), never assume it was sent.
              std::cerr << "sendmail: " << e.what() << "; the message was not sent\n";
              return kExTempFail;
            }
          }};
}

}  // namespace postern::cli
