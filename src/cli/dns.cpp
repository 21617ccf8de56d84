// `postern dns [DOMAIN] [--check] [--json] [--resolver IP[:PORT]]`: the DNS
// records a local domain needs and, with --check, what DNS really says, each
// mistake in plain words, plus the port-25 egress test (SPEC §1.7,
// docs/dns.md). The records and the check are pure (src/dns_records); this
// file gathers the facts (configuration, addresses, DKIM keys) and runs the
// lookups.
//
// Exit status, like probe's stages: 0 everything matches (warnings
// allowed), 1 the configuration cannot be used, 2 usage, 3 a DNS record is
// missing or wrong (or could not be looked up), 4 outbound port 25 is
// blocked.
#include <ifaddrs.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "cli/dns_dkim.hpp"
#include "config/config.hpp"
#include "config/host_port.hpp"
#include "dns/idn.hpp"
#include "dns/question_resolver.hpp"
#include "dns_records/public_address.hpp"
#include "dns_records/record_check.hpp"
#include "dns_records/report.hpp"
#include "probe/egress.hpp"
#include "probe/target.hpp"

namespace postern::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitConfig = 1;
constexpr int kExitUsage = 2;
constexpr int kExitDns = 3;
constexpr int kExitEgress = 4;

struct DnsOptions {
  std::string domain;
  std::string config_path;
  bool check = false;
  bool json = false;
  std::string resolver;
  std::vector<std::string> addresses;
  std::string egress_target = probe::kDefaultEgressTarget;
  bool no_egress = false;
  std::string timeout = "10s";
};

// The addresses of this machine's interfaces that others can reach.
std::vector<std::string> interface_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    const int family = i->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    char text[NI_MAXHOST] = {};
    const socklen_t size = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (::getnameinfo(i->ifa_addr, size, text, sizeof text, nullptr, 0, NI_NUMERICHOST) != 0) {
      continue;
    }
    std::string address = text;
    if (const auto pct = address.find('%'); pct != std::string::npos) address.resize(pct);
    if (dns_records::is_public_address(address) &&
        std::find(out.begin(), out.end(), address) == out.end()) {
      out.push_back(address);
    }
  }
  ::freeifaddrs(list);
  return out;
}

// --address first; else the public addresses listeners are bound to; else
// the public addresses of the interfaces (a wildcard listener); else none,
// and the check uses what the hostname resolves to.
std::vector<std::string> server_addresses(const DnsOptions& o, const config::Config& c,
                                          std::string& source) {
  if (!o.addresses.empty()) {
    source = "from --address";
    return o.addresses;
  }
  std::vector<std::string> bound;
  bool wildcard = false;
  for (const auto& l : c.listeners) {
    if (l.host == "0.0.0.0" || l.host == "::") wildcard = true;
    if (dns_records::is_public_address(l.host) &&
        std::find(bound.begin(), bound.end(), l.host) == bound.end()) {
      bound.push_back(l.host);
    }
  }
  if (!bound.empty()) {
    source = "the listeners' addresses";
    return bound;
  }
  if (wildcard) {
    auto found = interface_addresses();
    if (!found.empty()) {
      source = "this machine's public interface addresses";
      return found;
    }
  }
  source =
      "no public address found on the listeners or interfaces (behind NAT? give it with "
      "--address IP); the check uses what " +
      c.hostname + " resolves to";
  return {};
}

int run_dns(const DnsOptions& o) {
  const auto timeout = probe::parse_timeout(o.timeout);
  if (!timeout) {
    std::cerr << "postern dns: --timeout " << o.timeout << " is not a duration (e.g. 10s)\n";
    return kExitUsage;
  }
  for (const auto& a : o.addresses) {
    if (!config::is_ip_literal(a)) {
      std::cerr << "postern dns: --address " << a << " is not an IP address\n";
      return kExitUsage;
    }
  }
  std::optional<config::Config> config;
  if (o.config_path.empty()) {
    config = config::embedded_default(std::filesystem::current_path());
  } else {
    auto loaded = config::load_file(o.config_path);
    if (!loaded.config) {
      std::cerr << "postern dns: cannot use " << o.config_path << "; run `postern check --config "
                << o.config_path << "` to see why\n";
      return kExitConfig;
    }
    config = std::move(loaded.config);
  }
  std::vector<std::string> domains = config->local_domains;
  if (!o.domain.empty()) {
    const auto a_label = dns::to_a_label(o.domain);
    if (!a_label || std::find(domains.begin(), domains.end(), *a_label) == domains.end()) {
      std::string list;
      for (const auto& d : domains) list += (list.empty() ? "" : ", ") + d;
      std::cerr << "postern dns: " << o.domain
                << " is not a local domain of this server (local: " << list
                << "); add it to local_domains first\n";
      return kExitUsage;
    }
    domains = {*a_label};
  }

  std::string address_source;
  const auto addresses = server_addresses(o, *config, address_source);
  std::unique_ptr<dns::QuestionResolver> resolver;
  const std::string resolver_address = o.resolver.empty() ? config->delivery.resolver : o.resolver;
  if (o.check) {
    try {
      dns::ResolverOptions options;
      options.server = resolver_address;
      options.timeout = *timeout;
      resolver = std::make_unique<dns::QuestionResolver>(options);
    } catch (const std::exception& e) {
      std::cerr << "postern dns: --resolver " << resolver_address << ": " << e.what() << "\n";
      return kExitUsage;
    }
  }

  bool dns_failed = false;
  nlohmann::json json_domains = nlohmann::json::array();
  for (const auto& domain : domains) {
    dns_records::DomainReport report;
    report.server.domain = domain;
    report.server.hostname = config->hostname;
    report.server.addresses = addresses;
    report.server.smarthost = config->delivery.smarthost;
    report.notes.push_back("addresses: " + (addresses.empty() ? std::string("none known") : [&] {
      std::string s;
      for (const auto& a : addresses) s += (s.empty() ? "" : ", ") + a;
      return s;
    }()) + " (" + address_source + ")");
    report.server.dkim = dkim_publications(*config, domain, report.notes);
    report.records = dns_records::required_records(report.server);
    if (resolver) {
      report.findings = dns_records::check_records(
          report.server, [&resolver](const mailauth::Question& q) { return resolver->resolve(q); });
      dns_failed = dns_failed || dns_records::has_failures(report);
    }
    if (o.json) {
      json_domains.push_back(dns_records::render_json(report));
    } else {
      std::cout << dns_records::render_text(report) << "\n";
    }
  }

  std::optional<probe::EgressResult> egress;
  if (o.check && !o.no_egress) {
    if (!config->delivery.smarthost.empty()) {
      if (!o.json) {
        std::cout << "Outbound port 25: not needed, mail leaves through the smarthost "
                  << config->delivery.smarthost << "\n";
      }
    } else {
      const auto target = probe::parse_egress_target(o.egress_target);
      if (!target) {
        std::cerr << "postern dns: --egress-target " << o.egress_target << " is not HOST[:PORT]\n";
        return kExitUsage;
      }
      egress = probe::test_egress(*target, resolver_address, *timeout);
      if (!o.json) std::cout << probe::render_egress_text(*egress);
    }
  }
  const int status = dns_failed                                 ? kExitDns
                     : egress && probe::egress_blocked(*egress) ? kExitEgress
                                                                : kExitOk;
  if (o.json) {
    nlohmann::json out = {{"schema", 1}, {"domains", json_domains}, {"exit_status", status}};
    if (egress) out["egress"] = probe::render_egress_json(*egress);
    std::cout << out.dump(2) << "\n";
  } else if (o.check) {
    std::cout << (status == kExitOk    ? "\npostern dns: everything matches\n"
                  : status == kExitDns ? "\npostern dns: DNS needs the fixes above\n"
                                       : "\npostern dns: DNS matches, but outbound port 25 is "
                                         "blocked\n");
  }
  return status;
}

}  // namespace

Command add_dns(CLI::App& app) {
  auto options = std::make_shared<DnsOptions>();
  CLI::App* sub = app.add_subcommand(
      "dns",
      "The DNS records a local domain needs (MX, A/AAAA, SPF, DKIM, DMARC, PTR); with --check, "
      "what DNS says and the port-25 egress test");
  sub->add_option("domain", options->domain, "a local domain (default: every local domain)");
  add_config_option(*sub, options->config_path, {}, "default: the embedded default");
  sub->add_flag("--check", options->check,
                "compare with what DNS answers and test outbound port 25");
  sub->add_flag("--json", options->json, "print the result as JSON (schema 1)");
  sub->add_option("--resolver", options->resolver,
                  "ask this DNS server (IP[:PORT]); default: [delivery] resolver, else the "
                  "system's");
  sub->add_option("--address", options->addresses,
                  "this server's public address (repeatable; default: found on the listeners or "
                  "interfaces)");
  sub->add_option("--egress-target", options->egress_target,
                  "the mail server HOST[:PORT] the port-25 test connects to")
      ->capture_default_str();
  sub->add_flag("--no-egress", options->no_egress, "skip the port-25 egress test");
  sub->add_option("--timeout", options->timeout, "per DNS lookup and for the egress test")
      ->capture_default_str();
  return {sub, [options] { return run_dns(*options); }};
}

}  // namespace postern::cli
