// [limits] user_messages, user_recipients, auth_failures_per_ip,
// auth_failures_per_user and the per-user overrides in
// [limits.user."name"] (SPEC §1.10, docs/limits.md). A rate is
// "count/window" (limits/rate.hpp); a list may be empty to switch a limit
// off. What parses but makes no sense (a per-minute limit that allows more
// than the per-hour one) is `postern check`'s (lint_limits.cpp).
#include "config/loader.hpp"
#include "core/text.hpp"
#include "limits/rate.hpp"

namespace postern::config {
namespace {

constexpr std::string_view kRateFix =
    "write count/window with a unit s, m, h or d, e.g. \"30/1m\", \"500/1h\", \"2000/1d\"";

}  // namespace

std::optional<limits::Rate> Loader::get_rate(const toml::table& t, std::string_view key,
                                             const std::string& full) {
  const toml::node* n = find(t, key);
  if (!n) return std::nullopt;
  note_line(full, *n);
  const auto* s = n->as_string();
  if (!s) {
    error(line_of(*n),
          full + " must be a string such as \"10/15m\", found " + std::string(type_name(*n)),
          std::string(kRateFix));
    return std::nullopt;
  }
  auto parsed = limits::parse_rate(s->get());
  if (!parsed.rate) {
    error(line_of(*n), full + " \"" + s->get() + "\": " + parsed.error, std::string(kRateFix));
    return std::nullopt;
  }
  return parsed.rate;
}

std::optional<std::vector<limits::Rate>> Loader::get_rate_list(const toml::table& t,
                                                               std::string_view key,
                                                               const std::string& full) {
  const toml::node* n = find(t, key);
  if (!n) return std::nullopt;
  note_line(full, *n);
  const auto* arr = n->as_array();
  if (!arr) {
    error(line_of(*n), full + " must be a list of rates, found " + std::string(type_name(*n)),
          "write it as " + std::string(key) + " = [\"30/1m\", \"500/1h\"] (or [] for no limit)");
    return std::nullopt;
  }
  std::vector<limits::Rate> out;
  bool ok = true;
  for (const auto& item : *arr) {
    const int line = line_of(item) > 0 ? line_of(item) : line_of(*n);
    const auto* s = item.as_string();
    if (!s) {
      error(line, full + " must contain only strings, found " + std::string(type_name(item)),
            std::string(kRateFix));
      ok = false;
      continue;
    }
    auto parsed = limits::parse_rate(s->get());
    if (!parsed.rate) {
      error(line, full + " \"" + s->get() + "\": " + parsed.error, std::string(kRateFix));
      ok = false;
      continue;
    }
    out.push_back(*parsed.rate);
  }
  if (!ok) return std::nullopt;
  return out;
}

void Loader::load_rate_limits(const toml::table& root) {
  const toml::node* limits_node = find(root, "limits");
  const toml::table* t = limits_node ? limits_node->as_table() : nullptr;
  if (!t) return;  // absent, or reported by load_limits
  limits::RateLimits& r = config_.rate_limits;
  if (auto v = get_rate_list(*t, "user_messages", "limits.user_messages")) r.defaults.messages = *v;
  if (auto v = get_rate_list(*t, "user_recipients", "limits.user_recipients")) {
    r.defaults.recipients = *v;
  }
  if (auto v = get_rate(*t, "auth_failures_per_ip", "limits.auth_failures_per_ip")) {
    r.auth_failures_per_ip = *v;
  }
  if (auto v = get_rate(*t, "auth_failures_per_user", "limits.auth_failures_per_user")) {
    r.auth_failures_per_user = *v;
  }
  const toml::node* users_node = find(*t, "user");
  if (!users_node) return;
  const auto* users = users_node->as_table();
  if (!users) {
    error(line_of(*users_node), "limits.user must be a table of users",
          "write overrides as [limits.user.\"bob@example.com\"] with user_messages = [...]");
    return;
  }
  for (auto&& [key, node] : *users) {
    const std::string name(key.str());
    const int line = static_cast<int>(key.source().begin.line);
    const std::string where_key = "limits.user.\"" + name + "\"";
    const auto* table = node.as_table();
    if (!table) {
      error(line, where_key + " must be a table",
            "write it as [" + where_key +
                "] with user_messages = [...] or user_recipients = "
                "[...]");
      continue;
    }
    if (name.find('@') == std::string::npos) {
      error(line, where_key + ": \"" + name + "\" is not an address",
            "name the user as they log in, e.g. [limits.user.\"bob@example.com\"]");
      continue;
    }
    check_keys(*table, where_key, kUserLimitKeys);
    config_.lines[where_key] = line;
    limits::RateLimits::Override o;
    o.messages = get_rate_list(*table, "user_messages", where_key + ".user_messages");
    o.recipients = get_rate_list(*table, "user_recipients", where_key + ".user_recipients");
    // Users log in with any case; their counters and overrides use the
    // lowercase name the users file keys them by (auth::normalize_address).
    r.overrides[ascii_lower(name)] = std::move(o);
  }
}

}  // namespace postern::config
