// `postern probe HOST[:PORT]`: walks the path to an SMTP server step by step
// and says in plain words what is wrong (SPEC §3.1, docs/troubleshooting.md).
//
// Exit status: 0 the whole path works, 2 usage, 3 DNS, 4 connect, 5 banner
// or TLS mode, 6 TLS or certificate, 7 AUTH, 8 MAIL/RCPT policy, 9 message
// refused, 10 protocol error or temporary refusal (probe::exit_status).
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "cli/walk_options.hpp"
#include "probe/egress.hpp"
#include "probe/port_scan.hpp"
#include "probe/presets.hpp"
#include "probe/probe.hpp"
#include "probe/report.hpp"
#include "probe/scan_report.hpp"
#include "probe/target.hpp"

namespace postern::cli {
namespace {

constexpr int kExitUsage = 2;

struct ProbeCliOptions : WalkCliOptions {
  std::string target;
  std::string from;
  std::vector<std::string> to;
  std::string timeout = "10s";
  bool smarthost = false;   // probe [delivery] smarthost of the configuration
  std::string config_path;  // which configuration (config_source.hpp)
  bool egress = false;
  std::string egress_target = probe::kDefaultEgressTarget;
};

// What to probe: a host (with or without a port) or a provider preset
// ("gmail", "gmail:465", "ses:eu-west-1", "ses:eu-west-1:2587").
struct Resolved {
  std::string host;
  std::optional<std::uint16_t> port;
  std::optional<probe::Preset> preset;
};

std::optional<Resolved> resolve_target(const std::string& text, std::string& why) {
  why.clear();
  // A preset followed by a port: split the port off and look the rest up.
  if (const auto t = probe::parse_target(text, why); t && t->port) {
    std::string ignored;
    const std::string name = text.substr(0, text.rfind(':'));
    if (auto preset = probe::find_preset(name, ignored)) {
      return Resolved{preset->host, t->port, std::move(preset)};
    }
  }
  std::string preset_why;
  if (auto preset = probe::find_preset(text, preset_why)) {
    return Resolved{preset->host, std::nullopt, std::move(preset)};
  }
  if (!preset_why.empty()) {
    why = preset_why;
    return std::nullopt;
  }
  const auto t = probe::parse_target(text, why);
  if (!t) return std::nullopt;
  return Resolved{t->host, t->port, std::nullopt};
}

// -v works here too: scan_ports tags each transcript line with its port.
int run_scan(const ProbeCliOptions& c, const probe::ProbeOptions& base, const Resolved& target) {
  if (!c.json) {
    std::cout << "postern probe " << base.host << " (no port given: trying "
              << (target.preset ? "the ports " + target.preset->name + " documents"
                                : std::string("587, 465, 2525 and 25"))
              << ")\n";
  }
  const probe::ScanReport report =
      target.preset
          ? probe::scan_ports(base, target.preset->ports)
          : probe::scan_ports(base, std::vector<std::uint16_t>(std::begin(probe::kScanPorts),
                                                               std::end(probe::kScanPorts)));
  std::cout << (c.json ? probe::render_scan_json(report)
                       : probe::render_scan_text(report, use_color()));
  return probe::exit_status(report);
}

// --smarthost: the target, TLS mode, credentials and trusted CA come from
// the configuration's [delivery] smarthost keys, so the probe walks exactly
// the path delivery takes. Options given on the command line still win.
int from_smarthost(ProbeCliOptions& c, std::string& password) {
  auto found = find_config("postern probe", c.config_path);
  if (!found) return 1;
  const config::DeliveryConfig& d = found->config.delivery;
  if (d.smarthost.empty()) {
    std::cerr << "postern probe: --smarthost: " << describe(found->choice)
              << " sets no [delivery] smarthost\n";
    return kExitUsage;
  }
  if (!c.target.empty()) {
    std::cerr << "postern probe: give either HOST[:PORT] or --smarthost, not both\n";
    return kExitUsage;
  }
  c.target = d.smarthost;
  if (c.tls == "auto") c.tls = std::string(to_string(d.smarthost_tls));
  if (c.ca_file.empty()) c.ca_file = d.smarthost_ca_file.string();
  if (c.user.empty() && !d.smarthost_user.empty()) {
    c.user = d.smarthost_user;
    password = d.smarthost_password;
    if (!d.smarthost_password_file.empty()) {
      std::ifstream in(d.smarthost_password_file);
      if (!in || !std::getline(in, password)) {
        std::cerr << "postern probe: cannot read [delivery] smarthost_password_file "
                  << d.smarthost_password_file.string() << "\n";
        return 1;
      }
      if (!password.empty() && password.back() == '\r') password.pop_back();
    }
    if (password.empty()) {
      std::cerr << "postern probe: " << describe(found->choice) << " sets smarthost_user "
                << d.smarthost_user << " without a password; nothing was tried\n";
      return kExitUsage;
    }
  }
  std::cout << "postern probe: the smarthost of " << describe(found->choice) << "\n";
  return 0;
}

// `probe --egress`: only the port-25 egress test (SPEC §1.7). Exit 0 open,
// 3 the target's name did not resolve, 4 blocked (the connect stage).
int run_egress(const ProbeCliOptions& c) {
  const auto timeout = probe::parse_timeout(c.timeout);
  const auto target = probe::parse_egress_target(c.egress_target);
  if (!timeout || !target) {
    std::cerr << "postern probe: "
              << (!timeout ? "--timeout " + c.timeout + " is not a duration"
                           : "--egress-target " + c.egress_target + " is not HOST[:PORT]")
              << "\n";
    return kExitUsage;
  }
  const probe::EgressResult r = probe::test_egress(*target, c.resolver, *timeout);
  if (c.json) {
    nlohmann::json out = probe::render_egress_json(r);
    out["schema"] = 1;
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << probe::render_egress_text(r);
  }
  if (r.outcome == probe::EgressOutcome::unresolved) return 3;
  return probe::egress_blocked(r) ? 4 : 0;
}

int run_probe_command(ProbeCliOptions& c) {
  if (c.egress) {
    if (!c.target.empty()) {
      std::cerr << "postern probe: --egress tests outbound port 25 only; give the server with "
                   "--egress-target, not as the target\n";
      return kExitUsage;
    }
    return run_egress(c);
  }
  std::string configured_password;
  if (c.smarthost) {
    if (const int status = from_smarthost(c, configured_password); status != 0) return status;
  } else if (!c.config_path.empty()) {
    std::cerr << "postern probe: --config is used with --smarthost only\n";
    return kExitUsage;
  } else if (c.target.empty()) {
    std::cerr << "postern probe: name what to probe: HOST[:PORT], a provider preset, "
                 "--smarthost or --egress\n";
    return kExitUsage;
  }
  std::string why;
  const auto target = resolve_target(c.target, why);
  if (!target) {
    std::cerr << "postern probe: " << why << "\n";
    return kExitUsage;
  }
  const auto timeout = probe::parse_timeout(c.timeout);
  if (!timeout) {
    std::cerr << "postern probe: --timeout " << c.timeout
              << " is not a duration (e.g. 10, 10s, 500ms)\n";
    return kExitUsage;
  }
  probe::ProbeOptions o;
  o.host = target->host;
  apply_walk_options(c, o);
  o.timeout = *timeout;
  if (!c.from.empty()) o.mail_from = c.from;
  o.rcpt_to = c.to;
  if (!configured_password.empty()) {
    o.user = c.user;
    o.password = configured_password;
  } else if (!read_walk_password("postern probe", c, o)) {
    return kExitUsage;
  }
  if (!target->port) return run_scan(c, o, *target);
  o.port = *target->port;
  // A preset's documented port comes with its TLS mode, unless --tls says.
  if (target->preset && o.tls == probe::TlsChoice::automatic) {
    for (const probe::PresetPort& p : target->preset->ports) {
      if (p.port == o.port) o.tls = p.tls;
    }
  }
  if (!c.json) {
    std::cout << "postern probe " << o.host << ":" << o.port << " (--tls "
              << probe::tls_option_name(o.tls) << ")\n";
  }
  const probe::ProbeResult result = probe::run_probe(o);
  if (c.json) {
    std::cout << probe::render_json(result, "probe");
  } else {
    std::cout << probe::render_text(result, use_color());
  }
  return probe::exit_status(result.diagnosis);
}

}  // namespace

Command add_probe(CLI::App& app) {
  auto options = std::make_shared<ProbeCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "probe",
      "Walk the path to an SMTP server (DNS, connect, banner, EHLO, TLS, certificate, AUTH, "
      "MAIL/RCPT) and say what is wrong");
  sub->add_option("target", options->target,
                  "HOST[:PORT], [IPv6]:PORT, or a provider preset (gmail, ses:eu-west-1, ...)");
  sub->add_flag("--smarthost", options->smarthost,
                "probe the configuration's [delivery] smarthost with its TLS mode, CA file and "
                "credentials");
  add_config_option(*sub, options->config_path, "only with --smarthost",
                    "default: $POSTERN_CONFIG, /etc/postern/postern.toml");
  add_tls_and_login_options(*sub, *options);
  sub->add_option("--from", options->from, "try MAIL FROM with this sender");
  sub->add_option("--to", options->to, "try RCPT TO with this recipient (repeatable); no DATA");
  sub->add_option("--timeout", options->timeout, "per step: 10, 10s, 500ms")->capture_default_str();
  add_connection_options(*sub, *options);
  sub->add_flag("--egress", options->egress,
                "only test whether outbound port 25 is open (and print the smarthost set-up if "
                "not)");
  sub->add_option("--egress-target", options->egress_target,
                  "the mail server HOST[:PORT] the --egress test connects to")
      ->capture_default_str();
  return {sub, [options] { return run_probe_command(*options); }};
}

}  // namespace postern::cli
