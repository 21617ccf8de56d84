// `postern check` for [delivery]: how outbound mail and the smarthost
// credentials cross the network (SPEC §1.5), and retry timing that cannot work.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "config/lint_rules.hpp"

namespace postern::config {
namespace {

// The first line of the file, or the reason it cannot be read.
bool readable_password_file(const std::filesystem::path& path, std::string& why) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    why = "it is a directory";
    return false;
  }
  std::ifstream in(path);
  if (!in) {
    why = std::strerror(errno);
    return false;
  }
  std::string line;
  if (!std::getline(in, line) || line.empty() || line == "\r") {
    why = "its first line is empty";
    return false;
  }
  return true;
}

void lint_smarthost_credentials(const Config& config, std::vector<Problem>& out) {
  const DeliveryConfig& d = config.delivery;
  const bool has_inline = config.lines.count("delivery.smarthost_password") != 0;
  const bool has_file = !d.smarthost_password_file.empty();

  if (!d.smarthost_user.empty() && d.smarthost_tls == TlsMode::none) {
    out.push_back(error_at(
        config.where("delivery.smarthost_user"),
        "smarthost_tls = \"none\" with smarthost_user: the credentials would cross the network "
        "in plaintext",
        "use smarthost_tls = \"starttls\" (587, 2525) or \"implicit\" (465); a hub reached "
        "without TLS must not need a password"));
  }
  if (!d.smarthost_user.empty() && !has_inline && !has_file) {
    out.push_back(error_at(config.where("delivery.smarthost_user"),
                           "smarthost_user is set but no password is configured",
                           "add smarthost_password_file = \"/etc/postern/smarthost-password\" "
                           "(a file whose first line is the password, mode 0600)"));
  }
  if (d.smarthost_user.empty() && (has_inline || has_file)) {
    out.push_back(warning_at(
        config.where(has_file ? "delivery.smarthost_password_file" : "delivery.smarthost_password"),
        "a smarthost password is configured without smarthost_user: it is never used",
        "add smarthost_user = \"...\" (the user name the provider gave you), or remove the "
        "password"));
  }
  if (has_inline) {
    out.push_back(warning_at(
        config.where("delivery.smarthost_password"),
        "smarthost_password is written in the configuration file, where backups, "
        "`postern check` output shared for help and anyone who can read the file see it",
        has_file
            ? std::string("remove smarthost_password: smarthost_password_file is "
                          "set and takes precedence")
            : std::string("move it to a file readable only by postern (chmod 0600) and "
                          "set smarthost_password_file = \"/etc/postern/smarthost-password\"")));
  }
  if (has_file) {
    const std::string where = config.where("delivery.smarthost_password_file");
    std::string why;
    if (!readable_password_file(d.smarthost_password_file, why)) {
      out.push_back(error_at(where,
                             "smarthost_password_file " + d.smarthost_password_file.string() +
                                 " cannot be used: " + why,
                             "create it with the password on its first line, readable by the "
                             "user postern runs as (chmod 0600)"));
    } else {
      struct stat st {};
      if (::stat(d.smarthost_password_file.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
        out.push_back(warning_at(where,
                                 "smarthost_password_file " + d.smarthost_password_file.string() +
                                     " is readable by other users",
                                 "chmod 0600 " + d.smarthost_password_file.string()));
      }
    }
  }
}

}  // namespace

void lint_delivery(const Config& config, std::vector<Problem>& out) {
  const DeliveryConfig& d = config.delivery;

  if (!d.smarthost.empty() && d.smarthost_tls == TlsMode::none) {
    out.push_back(warning_at(
        config.where("delivery.smarthost_tls"),
        "smarthost_tls = \"none\": mail crosses the network unencrypted; only for an internal "
        "relay hub",
        "use smarthost_tls = \"starttls\" or \"implicit\" unless the smarthost is on a trusted "
        "network"));
  }
  if (d.smarthost.empty()) {
    for (const char* key : {"delivery.smarthost_tls", "delivery.smarthost_user",
                            "delivery.fallback_ports", "delivery.smarthost_ca_file"}) {
      if (config.lines.count(key)) {
        out.push_back(warning_at(
            config.where(key),
            std::string(std::string_view(key).substr(9)) + " has no effect without smarthost",
            "set smarthost = \"host:port\", or remove the line"));
      }
    }
  }
  lint_smarthost_credentials(config, out);

  if (!d.smarthost_ca_file.empty()) {
    std::ifstream in(d.smarthost_ca_file);
    std::error_code ec;
    if (!in || std::filesystem::is_directory(d.smarthost_ca_file, ec)) {
      out.push_back(
          error_at(config.where("delivery.smarthost_ca_file"),
                   "smarthost_ca_file " + d.smarthost_ca_file.string() + " cannot be read",
                   "point it at a PEM file of CA certificates, or remove the line to "
                   "trust the system store only"));
    }
  }

  if (d.retry_initial > d.retry_max) {
    out.push_back(error_at(
        config.where(config.lines.count("delivery.retry_initial") ? "delivery.retry_initial"
                                                                  : "delivery.retry_max"),
        "retry_initial (" + std::to_string(d.retry_initial.count()) +
            "s) is longer than retry_max (" + std::to_string(d.retry_max.count()) + "s)",
        "make retry_initial at most retry_max: the backoff starts at retry_initial and "
        "doubles up to retry_max"));
  }
  if (d.retry_initial > d.max_queue_lifetime) {
    out.push_back(
        warning_at(config.where("delivery.max_queue_lifetime"),
                   "max_queue_lifetime is shorter than retry_initial: a message that fails once is "
                   "bounced without a retry",
                   "make max_queue_lifetime longer (RFC 5321 §4.5.4.1 suggests 4-5 days)"));
  }
}

}  // namespace postern::config
