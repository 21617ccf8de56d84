// DNS lookups for outbound delivery, through libunbound (which can validate
// DNSSEC, so DANE stays possible later). Calls block; they run on delivery
// threads, and several threads may share one Resolver.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace postern::dns {

enum class Status {
  ok,
  nxdomain,           // the name does not exist: permanent
  no_data,            // the name exists but has no record of that type
  null_mx,            // RFC 7505 "MX 0 ." : the domain accepts no mail (permanent)
  temporary_failure,  // SERVFAIL, timeout, network: retry later
};

struct MxHost {
  std::string host;  // without trailing dot, lowercased
  int preference = 0;
};

struct MxResult {
  Status status = Status::temporary_failure;
  // Ordered for delivery: ascending preference, random order among equal
  // preferences (RFC 5321 §5.1). When the domain has no MX but has an
  // address, this holds the domain itself with preference 0 (implicit MX).
  std::vector<MxHost> hosts;
  std::string error;  // human-readable reason when status != ok
};

struct AddressResult {
  Status status = Status::temporary_failure;
  std::vector<std::string> addresses;  // textual: every IPv4 address, then IPv6
  std::string error;
};

struct ResolverOptions {
  // "127.0.0.1:5353" or "127.0.0.1" (port 53); empty = the system resolver
  // (/etc/resolv.conf).
  std::string server;
  // Tests point at a server on loopback: unbound refuses that unless told
  // (do-not-query-localhost: no). Set automatically when `server` is loopback.
  bool allow_loopback = false;
  // Upper bound for one lookup_mx or lookup_addresses call, all its queries
  // together; past it the call reports temporary_failure. Unbound itself
  // gives up on a silent server only after about 17 s of retries.
  std::chrono::milliseconds timeout{30000};
  // No DNSSEC trust anchor is configured, so nothing is validated (and test
  // zones on loopback need none). DANE (RFC 7672) will add a field here, a
  // trust anchor file handed to ub_ctx_add_ta_autr, and report bogus
  // answers as temporary failures.
};

class Resolver {
 public:
  // Throws std::runtime_error with an operator-facing message on bad options.
  static std::unique_ptr<Resolver> create(const ResolverOptions& options);
  virtual ~Resolver() = default;
  // `domain` is an A-label (IDN domains must be converted before).
  virtual MxResult lookup_mx(const std::string& domain) = 0;
  virtual AddressResult lookup_addresses(const std::string& host) = 0;
};

}  // namespace postern::dns
