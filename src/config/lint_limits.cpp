// `postern check` on the limits of SPEC §1.10: rates that parse but make no
// sense. Parsing errors are the loader's (load_rate_limits.cpp).
#include <fmt/format.h>

#include <algorithm>

#include "config/lint_rules.hpp"

namespace postern::config {
namespace {

// In one list, a limit with a shorter window and at least the count of a
// longer one can never be the one that refuses: it says something the
// operator did not mean ("600/1m" beside "500/1h": the minute limit is
// never reached, so bursts are not bounded as intended). Two limits of
// one window: the larger is dead weight.
void lint_list(const Config& config, const std::string& key, const std::vector<limits::Rate>& rates,
               std::vector<Problem>& out) {
  const std::string where = config.where(key);
  for (std::size_t i = 0; i < rates.size(); ++i) {
    for (std::size_t j = 0; j < rates.size(); ++j) {
      if (i == j) continue;
      const auto& shorter = rates[i];
      const auto& longer = rates[j];
      if (shorter.window == longer.window) {
        if (i < j) {
          out.push_back(warning_at(
              where,
              fmt::format("{} has two limits for one window, {} and {}: only the smaller applies",
                          key, shorter.text(), longer.text()),
              "keep one limit per window"));
        }
        continue;
      }
      if (shorter.window < longer.window && shorter.count >= longer.count) {
        out.push_back(warning_at(
            where,
            fmt::format("{}: {} allows at least as many as {} over a longer time, so it never "
                        "applies",
                        key, shorter.text(), longer.text()),
            fmt::format("lower the shorter window's count below {} (e.g. \"{}/{}\"), or remove it",
                        longer.count, std::max<std::uint64_t>(1, longer.count / 10),
                        limits::Rate{1, shorter.window}.text().substr(2))));
      }
    }
  }
}

}  // namespace

void lint_limits(const Config& config, std::vector<Problem>& out) {
  const auto& r = config.rate_limits;
  lint_list(config, "limits.user_messages", r.defaults.messages, out);
  lint_list(config, "limits.user_recipients", r.defaults.recipients, out);
  for (const auto& [user, o] : r.overrides) {
    const std::string base = "limits.user.\"" + user + "\"";
    if (o.messages) lint_list(config, base + ".user_messages", *o.messages, out);
    if (o.recipients) lint_list(config, base + ".user_recipients", *o.recipients, out);
  }
  // A message has at least one recipient: a recipient limit below the
  // message limit of the same window caps messages first.
  for (const auto& m : r.defaults.messages) {
    for (const auto& rc : r.defaults.recipients) {
      if (rc.window == m.window && rc.count < m.count) {
        out.push_back(warning_at(
            config.where("limits.user_recipients"),
            fmt::format("limits.user_recipients {} is below user_messages {}: every message "
                        "has a recipient, so the message limit is never reached",
                        rc.text(), m.text()),
            "allow at least as many recipients as messages in a window"));
      }
    }
  }
  // AUTH: a per-address limit far above the per-user one lets one address
  // try many users; that is its purpose, so only a limit of 1 is odd: one
  // typo locks the user or the address out.
  const std::pair<std::string, limits::Rate> auth[] = {
      {"limits.auth_failures_per_ip", r.auth_failures_per_ip},
      {"limits.auth_failures_per_user", r.auth_failures_per_user}};
  for (const auto& [key, rate] : auth) {
    if (rate.count < 3) {
      out.push_back(
          warning_at(config.where(key),
                     fmt::format("{} = \"{}\": a single mistyped password locks the client out",
                                 key, rate.text()),
                     "allow a few failures, e.g. \"10/15m\" (the default)"));
    }
  }
}

}  // namespace postern::config
