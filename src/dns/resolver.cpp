// dns::Resolver on top of UnboundContext: what the answers mean for mail.
//
// Validation: no trust anchor is configured, so answers are not
// DNSSEC-validated (see ResolverOptions). DANE (RFC 7672) will add one with
// ub_ctx_add_ta_autr; test zones served on loopback stay unvalidated.
#include "dns/resolver.hpp"

#include <arpa/inet.h>

#include <random>
#include <span>
#include <stdexcept>

#include "dns/mx_records.hpp"
#include "dns/unbound_context.hpp"

namespace postern::dns {
namespace {

constexpr int kTypeA = 1;      // RFC 1035 §3.2.2
constexpr int kTypeMx = 15;    // RFC 1035 §3.2.2
constexpr int kTypeAaaa = 28;  // RFC 3596 §2.1
constexpr int kRcodeNoError = 0;

using Clock = std::chrono::steady_clock;

const char* type_name(int type) {
  return type == kTypeMx ? "MX" : type == kTypeA ? "A" : "AAAA";
}

// What one answer says, before any mail-specific reading.
struct Outcome {
  Status status = Status::temporary_failure;  // ok = records present
  std::string error;
};

Outcome classify(const UnboundContext::Answer& a, const std::string& name, int type,
                 std::chrono::milliseconds timeout) {
  const std::string what = std::string(type_name(type)) + " lookup for " + name;
  if (a.timed_out) {
    return {Status::temporary_failure,
            what + " timed out after " + std::to_string(timeout.count()) + " ms"};
  }
  if (a.error != 0 || !a.result) {
    return {Status::temporary_failure, what + " failed: " + ub_strerror(a.error)};
  }
  const ub_result& r = *a.result;
  if (r.nxdomain) return {Status::nxdomain, name + " does not exist (NXDOMAIN)"};
  if (r.rcode != kRcodeNoError) {
    // SERVFAIL (also what unbound reports when every server stayed silent),
    // REFUSED and the rest say nothing about the name: try again later.
    return {Status::temporary_failure, what + " failed: DNS rcode " + std::to_string(r.rcode) +
                                           (r.rcode == 2 ? " (SERVFAIL)" : "")};
  }
  if (r.bogus) return {Status::temporary_failure, what + ": DNSSEC validation failed"};
  if (!r.havedata) {
    return {Status::no_data, name + " has no " + type_name(type) + " record"};
  }
  return {Status::ok, {}};
}

class UnboundResolver : public Resolver {
 public:
  explicit UnboundResolver(const ResolverOptions& options)
      : timeout_(options.timeout), context_(checked(options)) {}

  MxResult lookup_mx(const std::string& domain) override {
    const auto deadline = Clock::now() + timeout_;
    auto answers = context_.resolve({{domain, kTypeMx}}, deadline);
    const Outcome mx = classify(answers[0], domain, kTypeMx, timeout_);
    MxResult out;
    if (mx.status == Status::no_data) {
      // RFC 5321 §5.1: without MX records the domain itself is the mail
      // host, as if it had "MX 0 domain", if it has an address.
      const AddressResult addresses = addresses_until(domain, deadline);
      if (addresses.status == Status::ok) {
        out.status = Status::ok;
        out.hosts.push_back({domain, 0});
        for (auto& c : out.hosts[0].host) {
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        }
        return out;
      }
      out.status = addresses.status == Status::temporary_failure ? Status::temporary_failure
                                                                 : Status::no_data;
      out.error = addresses.status == Status::temporary_failure
                      ? addresses.error
                      : domain + " has no MX and no address record";
      return out;
    }
    if (mx.status != Status::ok) {
      out.status = mx.status;
      out.error = mx.error;
      return out;
    }
    std::vector<MxHost> records;
    const ub_result& r = *answers[0].result;
    for (int i = 0; r.data[i] != nullptr; ++i) {
      const std::span<const unsigned char> rdata(reinterpret_cast<const unsigned char*>(r.data[i]),
                                                 static_cast<std::size_t>(r.len[i]));
      if (auto host = parse_mx_rdata(rdata)) records.push_back(std::move(*host));
    }
    if (records.empty()) {
      out.status = Status::temporary_failure;
      out.error = "malformed MX answer for " + domain;
      return out;
    }
    // One generator per thread: lookups run on several delivery threads.
    thread_local std::mt19937 rng{std::random_device{}()};
    return order_mx(std::move(records), domain, rng);
  }

  AddressResult lookup_addresses(const std::string& host) override {
    return addresses_until(host, Clock::now() + timeout_);
  }

 private:
  static const ResolverOptions& checked(const ResolverOptions& options) {
    if (options.timeout <= std::chrono::milliseconds::zero()) {
      throw std::runtime_error("DNS resolver: the lookup timeout must be positive");
    }
    return options;
  }

  // A and AAAA are asked at once; addresses come back IPv4 first. Any
  // address is success, even if the other family failed: the caller can
  // connect to what it has.
  AddressResult addresses_until(const std::string& host, Clock::time_point deadline) {
    auto answers = context_.resolve({{host, kTypeA}, {host, kTypeAaaa}}, deadline);
    AddressResult out;
    Outcome a = classify(answers[0], host, kTypeA, timeout_);
    Outcome aaaa = classify(answers[1], host, kTypeAaaa, timeout_);
    for (std::size_t k = 0; k < 2; ++k) {
      const bool v4 = k == 0;
      if ((v4 ? a : aaaa).status != Status::ok) continue;
      const ub_result& r = *answers[k].result;
      for (int i = 0; r.data[i] != nullptr; ++i) {
        if (r.len[i] != (v4 ? 4 : 16)) continue;  // malformed RDATA
        char text[INET6_ADDRSTRLEN] = {};
        if (::inet_ntop(v4 ? AF_INET : AF_INET6, r.data[i], text, sizeof text) != nullptr) {
          out.addresses.emplace_back(text);
        }
      }
    }
    if (!out.addresses.empty()) {
      out.status = Status::ok;
    } else if (a.status == Status::temporary_failure || aaaa.status == Status::temporary_failure) {
      out.status = Status::temporary_failure;
      out.error = a.status == Status::temporary_failure ? a.error : aaaa.error;
    } else if (a.status == Status::nxdomain || aaaa.status == Status::nxdomain) {
      out.status = Status::nxdomain;
      out.error = host + " does not exist (NXDOMAIN)";
    } else {
      out.status = Status::no_data;
      out.error = host + " has no address record";
    }
    return out;
  }

  std::chrono::milliseconds timeout_;
  UnboundContext context_;
};

}  // namespace

std::unique_ptr<Resolver> Resolver::create(const ResolverOptions& options) {
  return std::make_unique<UnboundResolver>(options);
}

}  // namespace postern::dns
