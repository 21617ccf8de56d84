// The port-25 egress test of `postern dns --check` and `postern probe
// --egress` (SPEC §1.7): can this machine open SMTP connections to other
// mail servers at all? Many clouds and ISPs drop outbound port 25; then
// direct MX delivery can never work and a smarthost on 587/465 is the way.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace postern::probe {

// A mail exchanger that always answers on port 25 when the path is open.
inline constexpr const char* kDefaultEgressTarget = "gmail-smtp-in.l.google.com:25";

enum class EgressOutcome {
  open,         // connected and a 220 greeting came back
  timed_out,    // the connection attempt got no answer: dropped on the way
  silent,       // connected, but no greeting: an interception proxy or filter
  refused,      // reset: a firewall rejects it (or nothing listens at the target)
  unreachable,  // no route out at all
  unresolved,   // the target's name did not resolve: nothing learnt about port 25
};

struct EgressResult {
  std::string target;   // "host:port" as tested
  std::string address;  // the address connected to
  EgressOutcome outcome = EgressOutcome::unresolved;
  std::string detail;  // one line: the banner, or what went wrong
};

// "host", "host:25", "[2001:db8::1]:25". nullopt when malformed.
struct EgressTarget {
  std::string host;
  std::uint16_t port = 25;
};
std::optional<EgressTarget> parse_egress_target(const std::string& text);

// Resolves (through `resolver`, "ip:port" or empty for the system's),
// connects and waits for the greeting, each within `timeout`.
EgressResult test_egress(const EgressTarget& target, const std::string& resolver,
                         std::chrono::milliseconds timeout);

bool egress_blocked(const EgressResult& result);
std::string_view to_string(EgressOutcome outcome);

// Plain words, and when blocked the smarthost set-up to use instead, with
// the provider presets postern knows.
std::string render_egress_text(const EgressResult& result);
nlohmann::json render_egress_json(const EgressResult& result);

// The [delivery] smarthost recipe alone (also used by docs tests).
std::string smarthost_recipe();

}  // namespace postern::probe
