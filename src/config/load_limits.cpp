#include "config/loader.hpp"

#include "config/duration.hpp"

namespace postern::config {

void Loader::load_limits(const toml::table& root) {
  const toml::table* t = get_table(root, "limits");
  if (!t) return;
  check_keys(*t, "limits", kLimitsKeys);
  Limits& lim = config_.limits;
  auto size = [](std::int64_t v) { return static_cast<std::size_t>(v); };
  // RFC 1870 SIZE is a decimal count of octets; 4 GiB is far beyond what
  // any peer accepts, and keeps the value meaningful on every platform.
  if (auto v = get_int(*t, "max_message_size", "limits.max_message_size", 1, 4294967295LL)) {
    lim.max_message_size = size(*v);
  }
  if (auto v = get_int(*t, "max_recipients", "limits.max_recipients", 1, 1000000)) {
    lim.max_recipients = size(*v);
  }
  if (auto v = get_int(*t, "max_sessions", "limits.max_sessions", 1, 1000000)) {
    lim.max_sessions = size(*v);
  }
  if (auto v = get_int(*t, "max_sessions_per_ip", "limits.max_sessions_per_ip", 1, 1000000)) {
    lim.max_sessions_per_ip = size(*v);
  }
  if (auto v = get_int(*t, "max_errors", "limits.max_errors", 1, 1000)) {
    lim.max_errors = size(*v);
  }
  if (lim.max_sessions_per_ip > lim.max_sessions &&
      config_.lines.count("limits.max_sessions_per_ip")) {
    error(config_.lines["limits.max_sessions_per_ip"],
          "limits.max_sessions_per_ip (" + std::to_string(lim.max_sessions_per_ip) +
              ") is larger than limits.max_sessions (" + std::to_string(lim.max_sessions) + ")",
          "make max_sessions_per_ip at most max_sessions");
  }
  if (const toml::node* n = find(*t, "idle_timeout")) {
    note_line("limits.idle_timeout", *n);
    const std::string fix =
        "write a duration from 1s to 24h: idle_timeout = \"300s\" (suffix s, m or h; a plain "
        "integer means seconds)";
    std::optional<std::chrono::seconds> d;
    if (const auto* s = n->as_string()) {
      d = parse_duration(s->get());
      if (!d) {
        error(line_of(*n), "limits.idle_timeout \"" + s->get() + "\" is not a duration", fix);
        return;
      }
    } else if (const auto* i = n->as_integer()) {
      if (i->get() >= 0) d = std::chrono::seconds(i->get());
    } else {
      error(line_of(*n),
            "limits.idle_timeout must be a duration, found " + std::string(type_name(*n)), fix);
      return;
    }
    if (!d || *d < std::chrono::seconds(1) || *d > std::chrono::hours(24)) {
      error(line_of(*n), "limits.idle_timeout is out of range", fix);
      return;
    }
    lim.idle_timeout = *d;
  }
}

}  // namespace postern::config
