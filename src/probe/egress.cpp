#include "probe/egress.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "dns/resolver.hpp"
#include "outbound/blocking_stream.hpp"
#include "probe/presets.hpp"
#include "probe/target.hpp"

namespace postern::probe {
namespace {

bool is_ip(const std::string& text) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, text.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

std::string seconds(std::chrono::milliseconds ms) {
  const auto s = ms.count() / 1000;
  return s * 1000 == ms.count() ? std::to_string(s) + " s" : std::to_string(ms.count()) + " ms";
}

}  // namespace

std::optional<EgressTarget> parse_egress_target(const std::string& text) {
  std::string why;
  const auto t = parse_target(text, why);
  if (!t) return std::nullopt;
  return EgressTarget{t->host, t->port.value_or(25)};
}

EgressResult test_egress(const EgressTarget& target, const std::string& resolver,
                         std::chrono::milliseconds timeout) {
  EgressResult out;
  const bool v6_literal = target.host.find(':') != std::string::npos;
  out.target =
      (v6_literal ? "[" + target.host + "]" : target.host) + ":" + std::to_string(target.port);
  std::vector<std::string> addresses;
  if (is_ip(target.host)) {
    addresses.push_back(target.host);
  } else {
    try {
      dns::ResolverOptions options;
      options.server = resolver;
      options.timeout = timeout;
      const auto r = dns::Resolver::create(options)->lookup_addresses(target.host);
      addresses = r.addresses;
      if (addresses.empty()) out.detail = r.error;
    } catch (const std::exception& e) {
      out.detail = e.what();
    }
    if (addresses.empty()) {
      out.outcome = EgressOutcome::unresolved;
      return out;
    }
  }
  // IPv4 first: that is where port 25 blocks matter most, and a host
  // without IPv6 connectivity would otherwise look blocked.
  out.address = addresses.front();
  outbound::ConnectError kind = outbound::ConnectError::none;
  std::string error;
  auto stream = outbound::BlockingStream::connect(out.address, target.port, timeout, kind, error);
  if (!stream) {
    out.detail = error;
    out.outcome = kind == outbound::ConnectError::timeout   ? EgressOutcome::timed_out
                  : kind == outbound::ConnectError::refused ? EgressOutcome::refused
                                                            : EgressOutcome::unreachable;
    if (out.outcome == EgressOutcome::timed_out) {
      out.detail = "no answer to the connection attempt within " + seconds(timeout);
    }
    return out;
  }
  // The greeting: a real MX sends "220 ..." at once (RFC 5321 §4.3.1).
  std::string banner;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (banner.find('\n') == std::string::npos && banner.size() < 1024) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds::zero()) break;
    if (stream->read_some(banner, left, error) != outbound::IoStatus::ok) break;
  }
  stream->write_all("QUIT\r\n", std::chrono::milliseconds(1000), error);
  stream->close();
  const auto eol = banner.find_first_of("\r\n");
  const std::string line = banner.substr(0, eol);
  if (line.rfind("220", 0) == 0) {
    out.outcome = EgressOutcome::open;
    out.detail = line;
  } else {
    out.outcome = EgressOutcome::silent;
    out.detail = line.empty() ? "connected, but no SMTP greeting within " + seconds(timeout)
                              : "connected, but the greeting was not 220: " + line;
  }
  return out;
}

bool egress_blocked(const EgressResult& r) {
  return r.outcome == EgressOutcome::timed_out || r.outcome == EgressOutcome::silent ||
         r.outcome == EgressOutcome::refused || r.outcome == EgressOutcome::unreachable;
}

std::string_view to_string(EgressOutcome outcome) {
  switch (outcome) {
    case EgressOutcome::open:
      return "open";
    case EgressOutcome::timed_out:
      return "timed_out";
    case EgressOutcome::silent:
      return "silent";
    case EgressOutcome::refused:
      return "refused";
    case EgressOutcome::unreachable:
      return "unreachable";
    case EgressOutcome::unresolved:
      return "unresolved";
  }
  return "?";
}

std::string smarthost_recipe() {
  std::string out =
      "  [delivery]\n"
      "  smarthost = \"smtp.gmail.com:587\"     # your provider's submission host and port\n"
      "  smarthost_tls = \"starttls\"           # \"implicit\" for a port-465 smarthost\n"
      "  smarthost_user = \"you@example.com\"\n"
      "  smarthost_password_file = \"/etc/postern/smarthost.password\"   # mode 0600\n"
      "  fallback_ports = [2525]              # tried in order when the first port times out\n"
      "\n"
      "  Providers postern knows (`postern probe NAME` tests one, `postern probe NAME "
      "--user U --password-stdin` your login):\n";
  for (const Preset& p : presets()) {
    std::string ports;
    for (const PresetPort& port : p.ports) {
      if (!ports.empty()) ports += ", ";
      ports +=
          std::to_string(port.port) + (port.tls == TlsChoice::implicit ? " implicit" : " starttls");
    }
    std::string name = p.name;
    if (name.size() < 12) name.resize(12, ' ');
    out +=
        "    " + name + p.host + " (" + ports + ")" + (p.note.empty() ? "" : ": " + p.note) + "\n";
  }
  return out;
}

std::string render_egress_text(const EgressResult& r) {
  std::string out =
      "Outbound port 25 (to " + r.target + (r.address.empty() ? "" : ", " + r.address) + "): ";
  switch (r.outcome) {
    case EgressOutcome::open:
      return out + "open (" + r.detail + ")\n";
    case EgressOutcome::unresolved:
      return out + "not tested: the name did not resolve (" + r.detail +
             "); give another one with --egress-target HOST[:PORT]\n";
    case EgressOutcome::timed_out:
      out += "BLOCKED: " + r.detail +
             ". The hosting provider or ISP drops outbound port 25 (most clouds do for new "
             "accounts), so mail cannot go straight to the recipients' MX hosts.\n";
      break;
    case EgressOutcome::silent:
      out += "BLOCKED: " + r.detail +
             ". Something on the way (the provider's filter or an interception proxy) holds "
             "port 25 connections, so mail cannot go straight to the recipients' MX hosts.\n";
      break;
    case EgressOutcome::refused:
      out += "BLOCKED: " + r.detail +
             ". A firewall on the way (or at the provider) rejects outbound port 25.\n";
      break;
    case EgressOutcome::unreachable:
      out += "BLOCKED: " + r.detail + ". This machine has no route to other mail servers.\n";
      break;
  }
  out +=
      "  Ask the provider to lift the port-25 block (some do on request), or send through a "
      "smarthost that takes authenticated mail on port 587 or 465:\n\n";
  return out + smarthost_recipe();
}

nlohmann::json render_egress_json(const EgressResult& r) {
  return {{"target", r.target},
          {"address", r.address},
          {"outcome", std::string(to_string(r.outcome))},
          {"blocked", egress_blocked(r)},
          {"detail", r.detail}};
}

}  // namespace postern::probe
