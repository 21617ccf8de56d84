// [[dkim]] keys (SPEC §1.7): what loading accepts but an operator should
// still hear about. Keys that cannot sign at all (missing, unreadable, not
// RSA or Ed25519, RSA under 1024 bits) are load errors, not lints.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "config/lint_rules.hpp"

namespace postern::config {

void lint_dkim(const Config& config, std::vector<Problem>& out) {
  std::set<std::string> domains_with_rsa;
  for (const DkimConfig& d : config.dkim) {
    const std::string where = config.where_line(d.line);
    struct stat st {};
    if (::stat(d.key.c_str(), &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
      out.push_back(error_at(
          where,
          fmt::format("dkim key {} is readable by every user of this machine; anyone who copies "
                      "it can sign mail as {}",
                      d.key.string(), d.domain),
          fmt::format("chmod 600 {} (owned by the user postern runs as), then publish a new "
                      "key under a new selector if others may have read it",
                      d.key.string())));
    }
    if (!d.private_key) continue;
    if (d.private_key->algorithm() == mailauth::dkim::Algorithm::rsa_sha256) {
      domains_with_rsa.insert(d.domain);
      if (d.private_key->bits() < mailauth::dkim::recommended_rsa_bits) {
        out.push_back(warning_at(
            where,
            fmt::format("dkim key {} is RSA with {} bits; receivers expect at least {} (RFC 8301 "
                        "§3.2) and may treat it as weak",
                        d.key.string(), d.private_key->bits(),
                        mailauth::dkim::recommended_rsa_bits),
            fmt::format("make a new key with `postern dkim keygen {} --selector NEW --bits 2048`, "
                        "publish it, then switch this entry to it",
                        d.domain)));
      }
    }
    if (std::find(config.local_domains.begin(), config.local_domains.end(), d.domain) ==
        config.local_domains.end()) {
      out.push_back(warning_at(
          where,
          fmt::format("dkim domain {} is not in local_domains; postern signs mail From: it, but "
                      "replies to that domain will not reach this server",
                      d.domain),
          fmt::format("add \"{}\" to local_domains, or correct the domain of this [[dkim]] entry",
                      d.domain)));
    }
  }
  std::set<std::string> reported;
  for (const DkimConfig& d : config.dkim) {
    if (domains_with_rsa.count(d.domain) || !reported.insert(d.domain).second) continue;
    out.push_back(warning_at(
        config.where_line(d.line),
        fmt::format("{} is signed with Ed25519 only; many receivers do not verify Ed25519 yet "
                    "(RFC 8463) and see such mail as unsigned",
                    d.domain),
        fmt::format("add a second [[dkim]] entry for {} with an RSA key: `postern dkim keygen {} "
                    "--selector NAME --algorithm rsa`",
                    d.domain, d.domain)));
  }
}

}  // namespace postern::config
