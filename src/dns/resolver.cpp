// libunbound behind dns::Resolver.
//
// Threading: delivery threads call lookups concurrently. With
// ub_ctx_async(ctx, 1) libunbound is built for threads, and "the blocking
// calls use shared ctx-cache when threaded" (unbound.h): each ub_resolve runs
// in the calling thread against the shared cache, so no lock is needed here.
//
// Validation: no trust anchor is configured yet, so answers are not
// DNSSEC-validated. DANE (RFC 7672) will add one (ub_ctx_add_ta_autr); test
// zones served on loopback must then stay unvalidated.
#include "dns/resolver.hpp"

#include <arpa/inet.h>
#include <unbound.h>

#include <algorithm>
#include <random>
#include <stdexcept>

namespace postern::dns {
namespace {

constexpr int kTypeA = 1;
constexpr int kTypeMx = 15;
constexpr int kTypeAaaa = 28;
constexpr int kClassIn = 1;
constexpr int kRcodeServfail = 2;

std::string lower(std::string s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Reads an uncompressed wire-format name (libunbound hands out rdata with
// names expanded). Returns false on malformed data.
bool read_name(const unsigned char* p, std::size_t len, std::string& out) {
  out.clear();
  std::size_t i = 0;
  while (i < len) {
    const unsigned label = p[i++];
    if (label == 0) return true;
    if (label > 63 || i + label > len) return false;
    if (!out.empty()) out += '.';
    out.append(reinterpret_cast<const char*>(p + i), label);
    i += label;
  }
  return false;
}

bool is_loopback(const std::string& ip) {
  return ip.rfind("127.", 0) == 0 || ip == "::1";
}

class UnboundResolver : public Resolver {
 public:
  explicit UnboundResolver(const ResolverOptions& options) : ctx_(ub_ctx_create()) {
    if (!ctx_) throw std::runtime_error("cannot create a DNS resolver context (libunbound)");
    check(ub_ctx_async(ctx_, 1), "async mode");
    if (options.server.empty()) {
      check(ub_ctx_resolvconf(ctx_, "/etc/resolv.conf"), "reading /etc/resolv.conf");
      ub_ctx_hosts(ctx_, "/etc/hosts");  // optional: a missing file is fine
    } else {
      // "127.0.0.1:5353" -> "127.0.0.1@5353", the form unbound expects.
      std::string host = options.server;
      std::string port;
      const auto colon = host.rfind(':');
      if (colon != std::string::npos && host.find(':') == colon) {
        port = host.substr(colon + 1);
        host = host.substr(0, colon);
      } else if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        if (close != std::string::npos && close + 1 < host.size() && host[close + 1] == ':') {
          port = host.substr(close + 2);
        }
        host = host.substr(1, close == std::string::npos ? std::string::npos : close - 1);
      }
      const std::string fwd = port.empty() ? host : host + "@" + port;
      check(ub_ctx_set_fwd(ctx_, fwd.c_str()), "resolver " + options.server);
      if (options.allow_loopback || is_loopback(host)) {
        // Unbound ignores servers on loopback unless told otherwise; tests
        // and local caching resolvers live there.
        check(ub_ctx_set_option(ctx_, "do-not-query-localhost:", "no"), "loopback resolver");
        // Unbound answers the special-use "test." (RFC 6761) itself with
        // NXDOMAIN; a local test resolver is exactly where it should go.
        ub_ctx_zone_remove(ctx_, "test.");
      }
    }
  }
  ~UnboundResolver() override { ub_ctx_delete(ctx_); }

  MxResult lookup_mx(const std::string& domain) override {
    MxResult out;
    ub_result* r = nullptr;
    const int err = ub_resolve(ctx_, domain.c_str(), kTypeMx, kClassIn, &r);
    if (err != 0) {
      out.error = std::string("DNS error: ") + ub_strerror(err);
      return out;
    }
    Guard guard{r};
    if (r->rcode == kRcodeServfail) {
      out.error = "DNS server failure (SERVFAIL) for " + domain;
      return out;
    }
    if (r->nxdomain) {
      out.status = Status::nxdomain;
      out.error = "domain " + domain + " does not exist (NXDOMAIN)";
      return out;
    }
    if (r->rcode != 0) {
      out.error = "DNS error rcode " + std::to_string(r->rcode) + " for " + domain;
      return out;
    }
    if (!r->havedata) {
      // RFC 5321 §5.1: without MX records the domain itself is the host.
      auto addresses = lookup_addresses(domain);
      if (addresses.status == Status::ok) {
        out.status = Status::ok;
        out.hosts.push_back({lower(domain), 0});
      } else {
        out.status = addresses.status == Status::temporary_failure ? Status::temporary_failure
                                                                   : Status::no_data;
        out.error = "domain " + domain + " has no MX and no address records";
      }
      return out;
    }
    for (int i = 0; r->data[i] != nullptr; ++i) {
      const auto* p = reinterpret_cast<const unsigned char*>(r->data[i]);
      const auto len = static_cast<std::size_t>(r->len[i]);
      if (len < 3) continue;
      MxHost h;
      h.preference = (p[0] << 8) | p[1];
      if (!read_name(p + 2, len - 2, h.host)) continue;
      h.host = lower(h.host);
      out.hosts.push_back(std::move(h));
    }
    // RFC 7505: a single MX with an empty target ("." ) says "no mail here".
    if (out.hosts.size() == 1 && out.hosts[0].host.empty()) {
      out.hosts.clear();
      out.status = Status::null_mx;
      out.error = "domain " + domain + " accepts no mail (null MX, RFC 7505)";
      return out;
    }
    std::erase_if(out.hosts, [](const MxHost& h) { return h.host.empty(); });
    if (out.hosts.empty()) {
      out.error = "malformed MX records for " + domain;
      return out;
    }
    // Preference order; random among equals (RFC 5321 §5.1) so load spreads.
    thread_local std::mt19937 rng{std::random_device{}()};
    std::shuffle(out.hosts.begin(), out.hosts.end(), rng);
    std::stable_sort(out.hosts.begin(), out.hosts.end(),
                     [](const MxHost& a, const MxHost& b) { return a.preference < b.preference; });
    out.status = Status::ok;
    return out;
  }

  AddressResult lookup_addresses(const std::string& host) override {
    AddressResult out;
    bool any_temporary = false;
    bool any_nxdomain = false;
    std::string last_error;
    for (int type : {kTypeA, kTypeAaaa}) {
      ub_result* r = nullptr;
      const int err = ub_resolve(ctx_, host.c_str(), type, kClassIn, &r);
      if (err != 0) {
        any_temporary = true;
        last_error = std::string("DNS error: ") + ub_strerror(err);
        continue;
      }
      Guard guard{r};
      if (r->rcode == kRcodeServfail || (r->rcode != 0 && !r->nxdomain)) {
        any_temporary = true;
        last_error = "DNS server failure for " + host;
        continue;
      }
      if (r->nxdomain) {
        any_nxdomain = true;
        continue;
      }
      for (int i = 0; r->havedata && r->data[i] != nullptr; ++i) {
        char text[INET6_ADDRSTRLEN] = {};
        const int family = type == kTypeA ? AF_INET : AF_INET6;
        const int expected = type == kTypeA ? 4 : 16;
        if (r->len[i] != expected) continue;
        if (inet_ntop(family, r->data[i], text, sizeof text)) out.addresses.emplace_back(text);
      }
    }
    if (!out.addresses.empty()) {
      out.status = Status::ok;
    } else if (any_temporary) {
      out.status = Status::temporary_failure;
      out.error = last_error;
    } else if (any_nxdomain) {
      out.status = Status::nxdomain;
      out.error = "host " + host + " does not exist (NXDOMAIN)";
    } else {
      out.status = Status::no_data;
      out.error = "host " + host + " has no address records";
    }
    return out;
  }

 private:
  struct Guard {
    ub_result* r;
    ~Guard() { ub_resolve_free(r); }
  };

  void check(int err, const std::string& what) {
    if (err != 0) {
      ub_ctx_delete(ctx_);
      ctx_ = nullptr;
      throw std::runtime_error("DNS resolver: " + what + ": " + ub_strerror(err));
    }
  }

  ub_ctx* ctx_;
};

}  // namespace

std::unique_ptr<Resolver> Resolver::create(const ResolverOptions& options) {
  return std::make_unique<UnboundResolver>(options);
}

}  // namespace postern::dns
