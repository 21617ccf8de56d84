// `postern send`: a swaks-like sender for one controlled test message
// (SPEC §3.1). It builds an RFC 5322 message (mime_message.hpp), walks the
// same path as `postern probe` with DATA at the end, and prints the
// server's final reply and queue id, or the same diagnosis as probe.
//
// Exit status: as `postern probe` (probe::exit_status): 0 sent, 2 usage,
// 3 DNS, 4 connect, 5 banner or TLS mode, 6 TLS or certificate, 7 AUTH,
// 8 MAIL/RCPT policy, 9 message refused, 10 protocol error or temporary
// refusal.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/walk_options.hpp"
#include "probe/mime_message.hpp"
#include "probe/presets.hpp"
#include "probe/probe.hpp"
#include "probe/report.hpp"
#include "probe/scan_report.hpp"
#include "probe/target.hpp"

namespace postern::cli {
namespace {

constexpr int kExitUsage = 2;

struct SendCliOptions : WalkCliOptions {
  std::string server;
  std::string from;
  std::vector<std::string> to;
  std::string subject = "postern send test message";
  std::vector<std::string> headers;
  std::string body;
  std::string body_file;
  std::vector<std::string> attach;
  std::string timeout = "30s";
};

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return !in.bad();
}

std::string base_name(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// --server: a preset ("gmail", "ses:eu-west-1") or HOST[:PORT]; 587 when no
// port is given. A preset's first documented port comes with its TLS mode
// unless --tls says otherwise.
bool resolve_server(const SendCliOptions& c, probe::ProbeOptions& o) {
  std::string why;
  if (const auto preset = probe::find_preset(c.server, why)) {
    o.host = preset->host;
    o.port = preset->ports.front().port;
    if (o.tls == probe::TlsChoice::automatic) o.tls = preset->ports.front().tls;
    return true;
  }
  if (!why.empty()) {
    std::cerr << "postern send: " << why << "\n";
    return false;
  }
  const auto target = probe::parse_target(c.server, why);
  if (!target) {
    std::cerr << "postern send: " << why << "\n";
    return false;
  }
  o.host = target->host;
  o.port = target->port.value_or(587);
  return true;
}

std::string unique_id() {
  std::random_device device;
  std::mt19937_64 random((static_cast<std::uint64_t>(device()) << 32) ^ device());
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%llx.%016llx",
                static_cast<unsigned long long>(
                    std::chrono::duration_cast<std::chrono::microseconds>(now).count()),
                static_cast<unsigned long long>(random()));
  return std::string(buf) + ".postern-send";
}

bool build(const SendCliOptions& c, std::string& message) {
  probe::MessageSpec spec;
  spec.from = c.from;
  spec.to = c.to;
  spec.subject = c.subject;
  spec.date = std::chrono::system_clock::now();
  spec.unique = unique_id();
  for (const std::string& h : c.headers) {
    std::pair<std::string, std::string> header;
    if (!probe::parse_header_option(h, header)) {
      std::cerr << "postern send: --header \"" << h << "\" is not \"Name: value\"\n";
      return false;
    }
    spec.headers.push_back(std::move(header));
  }
  if (!c.body_file.empty()) {
    if (!read_file(c.body_file, spec.body)) {
      std::cerr << "postern send: cannot read --body-file " << c.body_file << "\n";
      return false;
    }
  } else if (!c.body.empty()) {
    spec.body = c.body;
  } else {
    spec.body = "This is a test message sent by postern send.\n";
  }
  for (const std::string& path : c.attach) {
    probe::MimeAttachment a;
    if (!read_file(path, a.data)) {
      std::cerr << "postern send: cannot read --attach " << path << "\n";
      return false;
    }
    a.filename = base_name(path);
    a.content_type = probe::guess_content_type(a.filename);
    spec.attachments.push_back(std::move(a));
  }
  message = probe::build_message(spec);
  return true;
}

int run_send(const SendCliOptions& c) {
  probe::ProbeOptions o;
  apply_walk_options(c, o);  // before the server: a preset's TLS mode yields to --tls
  if (!resolve_server(c, o)) return kExitUsage;
  const auto timeout = probe::parse_timeout(c.timeout);
  if (!timeout) {
    std::cerr << "postern send: --timeout " << c.timeout
              << " is not a duration (e.g. 30, 30s, 500ms)\n";
    return kExitUsage;
  }
  o.timeout = *timeout;
  o.mail_from = c.from;
  o.rcpt_to = c.to;
  if (!read_walk_password("postern send", c, o)) return kExitUsage;
  std::string message;
  if (!build(c, message)) return kExitUsage;
  o.message = std::move(message);
  if (!c.json) {
    const bool v6 = o.host.find(':') != std::string::npos;
    std::cout << "postern send " << (v6 ? "[" + o.host + "]" : o.host) << ":" << o.port
              << " (--tls " << probe::tls_option_name(o.tls) << ")\n";
  }
  const probe::ProbeResult result = probe::run_probe(o);
  if (c.json) {
    std::cout << probe::render_json(result, "send");
  } else {
    std::cout << probe::render_text(result, use_color());
    // render_text shows the queue id alone when there is one; the server's
    // own words matter as much (swaks prints the final 250).
    if (result.ok() && !result.queue_id.empty() && !result.server_reply.empty())
      std::cout << "Server: " << result.server_reply << "\n";
  }
  return probe::exit_status(result.diagnosis);
}

}  // namespace

Command add_send(CLI::App& app) {
  auto options = std::make_shared<SendCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "send",
      "Send one test message through an SMTP server (swaks-like) and say what is wrong "
      "when it fails");
  sub->add_option("--server", options->server,
                  "HOST[:PORT] (587 when no port), [IPv6]:PORT, or a provider preset (gmail, "
                  "ses:eu-west-1, mailgun:eu, ...)")
      ->required();
  add_tls_and_login_options(*sub, *options);
  sub->add_option("--from", options->from, "envelope sender and From: header")->required();
  sub->add_option("--to", options->to, "recipient (repeatable)")->required();
  sub->add_option("--subject", options->subject, "Subject: (non-ASCII is encoded, RFC 2047)")
      ->capture_default_str();
  sub->add_option("--header", options->headers, "extra header \"Name: value\" (repeatable)");
  auto* body = sub->add_option("--body", options->body, "message text");
  sub->add_option("--body-file", options->body_file, "message text from this file")
      ->check(CLI::ExistingFile)
      ->excludes(body);
  sub->add_option("--attach", options->attach, "attach this file (repeatable; MIME, base64)")
      ->check(CLI::ExistingFile);
  sub->add_option("--timeout", options->timeout, "per step: 30, 30s, 500ms")->capture_default_str();
  add_connection_options(*sub, *options);
  return {sub, [options] { return run_send(*options); }};
}

}  // namespace postern::cli
