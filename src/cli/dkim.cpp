// `postern dkim keygen DOMAIN --selector S [--algorithm rsa|ed25519] [--bits N]`
// and `postern dkim show DOMAIN` (SPEC §1.7): the DKIM private key, and the
// TXT record to publish for it, in the two shapes operators paste it in.
//
// Exit status: 0 done, 1 the key could not be written or read (or no
// [[dkim]] entry for the domain), 2 usage errors.
#include <fmt/format.h>
#include <sys/stat.h>

#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "config/config.hpp"
#include "core/durable_file.hpp"
#include "core/text.hpp"
#include "mailauth/dkim/key.hpp"
#include "mailauth/dkim/key_record.hpp"
#include "mailauth/dkim_key_file.hpp"

namespace postern::cli {
namespace {

namespace dkim = mailauth::dkim;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

constexpr const char* kSystemConfig = "/etc/postern/postern.toml";

struct DkimOptions {
  std::string domain;
  std::string selector;
  std::string algorithm = "rsa";
  int bits = dkim::recommended_rsa_bits;
  std::string key_path;
  std::string config_path;
};

// What to publish, as a zone-file line and as the one value a registrar's
// web form takes (forms split long values themselves; pasting the quoted
// zone-file strings there is the usual way to break the record).
void print_record(std::ostream& out, std::string_view selector, std::string_view domain,
                  std::string_view record) {
  const std::string name = dkim::key_record_name(selector, domain);
  const auto strings = dkim::split_txt_strings(record);
  out << "Publish this TXT record at " << name << ":\n\n"
      << "  zone file (BIND, NSD, Knot; " << strings.size() << " string"
      << (strings.size() == 1 ? "" : "s") << " of at most 255 octets):\n"
      << "    " << dkim::zone_file_line(selector, domain, record) << "\n\n"
      << "  registrar or DNS provider form:\n"
      << "    type:  TXT\n"
      << "    name:  " << selector << "._domainkey   (forms that want the full name: " << name
      << ")\n"
      << "    value: " << record << "\n"
      << "           (one line, no quotes; the form splits it itself)\n";
}

int run_keygen(const DkimOptions& o) {
  const std::string domain = ascii_lower(o.domain);
  if (!is_dns_name(domain) || domain.find('.') == std::string::npos) {
    std::cerr << "postern dkim keygen: \"" << o.domain << "\" is not a domain name\n";
    return kExitUsage;
  }
  if (!is_dns_name(o.selector)) {
    std::cerr << "postern dkim keygen: selector \"" << o.selector
              << "\" is not a DNS label (letters, digits, hyphens; e.g. 2026r)\n";
    return kExitUsage;
  }
  const auto algorithm = dkim::parse_key_type(o.algorithm);
  if (!algorithm) {
    std::cerr << "postern dkim keygen: --algorithm is rsa or ed25519, not \"" << o.algorithm
              << "\"\n";
    return kExitUsage;
  }
  if (*algorithm == dkim::Algorithm::rsa_sha256 && o.bits < dkim::min_rsa_bits) {
    std::cerr << "postern dkim keygen: RSA keys under " << dkim::min_rsa_bits
              << " bits never pass verification (RFC 8301); use --bits 2048\n";
    return kExitUsage;
  }
  if (*algorithm == dkim::Algorithm::rsa_sha256 && o.bits > 4096) {
    std::cerr << "postern dkim keygen: --bits over 4096 makes records many DNS servers and "
                 "verifiers refuse; use 2048\n";
    return kExitUsage;
  }
  std::filesystem::path path = o.key_path;
  if (path.empty()) {
    const std::filesystem::path config = o.config_path.empty() ? kSystemConfig : o.config_path;
    path = config.parent_path() / "dkim" / (domain + "." + o.selector + ".pem");
  }
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    std::cerr << "postern dkim keygen: " << path.string()
              << " already exists; keep it, or pick a new selector to rotate keys (the old "
                 "record stays published until mail signed with it has been delivered)\n";
    return kExitFailed;
  }
  const dkim::PrivateKeyResult key = dkim::generate_key(*algorithm, o.bits);
  if (!key.key) {
    std::cerr << "postern dkim keygen: " << key.error << "\n";
    return kExitFailed;
  }
  if (!path.parent_path().empty()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      std::cerr << "postern dkim keygen: cannot create " << path.parent_path().string() << ": "
                << ec.message() << "\n";
      return kExitFailed;
    }
  }
  // 0600: only the server's user may read a private key.
  if (auto werr = write_file_durably(path, key.key->to_pem(), 0600)) {
    std::cerr << "postern dkim keygen: cannot write " << path.string() << ": " << werr.message()
              << "\n";
    return kExitFailed;
  }
  const std::string kind = *algorithm == dkim::Algorithm::rsa_sha256
                               ? fmt::format("RSA {} bits", key.key->bits())
                               : std::string("Ed25519");
  std::cout << "Wrote " << path.string() << " (" << kind << ", mode 0600).\n\n";
  print_record(std::cout, o.selector, domain, dkim::public_key_record(*key.key));
  std::cout << "\nThen add to the configuration and restart postern (keys are read at start):\n\n"
            << "  [[dkim]]\n"
            << "  domain   = \"" << domain << "\"\n"
            << "  selector = \"" << o.selector << "\"\n"
            << "  key      = \"" << std::filesystem::absolute(path).lexically_normal().string()
            << "\"\n";
  if (*algorithm == dkim::Algorithm::ed25519_sha256) {
    std::cout << "\nMany receivers do not verify Ed25519 yet: sign with an RSA key as well "
                 "(a second [[dkim]] entry with its own selector).\n";
  }
  return kExitOk;
}

int run_show(const DkimOptions& o) {
  const std::string domain = ascii_lower(o.domain);
  const std::string config_path = o.config_path.empty() ? kSystemConfig : o.config_path;
  auto loaded = config::load_file(config_path);
  if (!loaded.config) {
    std::cerr << "postern dkim show: cannot use " << config_path << "; run `postern check --config "
              << config_path << "` to see why\n";
    return kExitFailed;
  }
  int shown = 0;
  for (const config::DkimConfig& d : loaded.config->dkim) {
    if (d.domain != domain) continue;
    if (shown++ > 0) std::cout << "\n";
    std::cout << "Selector " << d.selector << " (" << d.key.string() << ", "
              << (d.private_key->algorithm() == dkim::Algorithm::rsa_sha256
                      ? fmt::format("RSA {} bits", d.private_key->bits())
                      : std::string("Ed25519"))
              << ").\n";
    print_record(std::cout, d.selector, domain, dkim::public_key_record(*d.private_key));
  }
  if (shown == 0) {
    std::cerr << "postern dkim show: " << config_path << " has no [[dkim]] entry for " << domain
              << "; create a key with `postern dkim keygen " << domain << " --selector NAME`\n";
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

Command add_dkim(CLI::App& app) {
  auto opts = std::make_shared<DkimOptions>();
  auto* dkim_app = app.add_subcommand("dkim", "DKIM keys and the TXT record to publish");
  dkim_app->require_subcommand(1);
  auto* keygen =
      dkim_app->add_subcommand("keygen", "create a signing key and print its TXT record");
  keygen->add_option("domain", opts->domain, "the domain mail is signed for (d=)")->required();
  keygen->add_option("--selector", opts->selector, "the selector (s=), e.g. 2026r")->required();
  keygen->add_option("--algorithm", opts->algorithm, "rsa (default) or ed25519");
  keygen->add_option("--bits", opts->bits, "RSA key size (default 2048)");
  keygen->add_option("--key", opts->key_path,
                     "where to write the key (default: dkim/DOMAIN.SELECTOR.pem beside the "
                     "configuration)");
  add_config_option(*keygen, opts->config_path, "the key goes beside it",
                    "default: /etc/postern/postern.toml");
  auto* show = dkim_app->add_subcommand("show", "print the TXT records of a domain's keys again");
  show->add_option("domain", opts->domain, "a domain with [[dkim]] entries")->required();
  add_config_option(*show, opts->config_path, "its [[dkim]] entries",
                    "default: /etc/postern/postern.toml");
  return {dkim_app, [opts, keygen, show]() {
            if (keygen->parsed()) return run_keygen(*opts);
            if (show->parsed()) return run_show(*opts);
            return kExitUsage;
          }};
}

}  // namespace postern::cli
