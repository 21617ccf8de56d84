#include "metrics/server_metrics.hpp"

#include <utility>
#include <vector>

namespace postern::metrics {
namespace {

Registry& r() {
  return process_registry();
}
std::string s(std::string_view v) {
  return std::string(v);
}

// The per-session and per-message series (by listener) looked up once per
// thread: a registry lookup builds the label strings and takes the
// registry's mutex, shared by every event loop, which cost a few thousand
// instructions per message on the accept path (bench/README.md). Series
// are never removed from the process registry, so the pointers stay
// valid; listeners are few (the configured ones), so the list stays short.
template <class T>
using Cache = std::vector<std::pair<std::string, T*>>;

template <class T, class Make>
T& cached(Cache<T>& cache, std::string_view key, Make make) {
  for (const auto& [k, p] : cache) {
    if (k == key) return *p;
  }
  T& made = make();
  cache.emplace_back(std::string(key), &made);
  return made;
}

Gauge& sessions_active(std::string_view listener) {
  thread_local Cache<Gauge> cache;
  return cached(cache, listener, [&]() -> Gauge& {
    return r().gauge("postern_sessions_active", "SMTP sessions open now, by listener.",
                     {{"listener", s(listener)}});
  });
}

}  // namespace

void session_opened(std::string_view listener, std::string_view role) {
  thread_local Cache<Counter> cache;
  std::string key;
  key.reserve(listener.size() + 1 + role.size());
  key.append(listener).append(1, ' ').append(role);
  cached(cache, key, [&]() -> Counter& {
    return r().counter("postern_sessions_total", "SMTP sessions accepted, by listener.",
                       {{"listener", s(listener)}, {"role", s(role)}});
  }).inc();
  sessions_active(listener).add(1);
}

void session_closed(std::string_view listener) {
  sessions_active(listener).add(-1);
}

void session_refused(std::string_view reason) {
  r().counter("postern_sessions_refused_total",
              "Connections answered 421 because a session limit was reached.",
              {{"reason", s(reason)}})
      .inc();
}

void tls_handshake(std::string_view listener, bool ok) {
  r().counter("postern_tls_handshakes_total", "TLS handshakes, by listener and result.",
              {{"listener", s(listener)}, {"result", ok ? "ok" : "failed"}})
      .inc();
}

void auth_result(bool ok) {
  r().counter("postern_auth_total", "AUTH attempts, by result.",
              {{"result", ok ? "success" : "failure"}})
      .inc();
}

void auth_password_check(std::string_view how) {
  r().counter("postern_auth_password_checks_total",
              "Users-file password checks, by how: hash (argon2id) or cache.", {{"how", s(how)}})
      .inc();
}

void message_accepted(std::string_view listener) {
  thread_local Cache<Counter> cache;
  cached(cache, listener, [&]() -> Counter& {
    return r().counter("postern_messages_accepted_total",
                       "Messages acknowledged with 250 (durably queued), by listener.",
                       {{"listener", s(listener)}});
  }).inc();
}

void message_rejected(std::string_view reason) {
  r().counter("postern_messages_rejected_total", "Refusals during SMTP sessions, by reason.",
              {{"reason", s(reason)}})
      .inc();
}

void delivery_result(std::string_view result, bool remote) {
  r().counter("postern_deliveries_total",
              "Delivery attempts per recipient, by result and destination kind.",
              {{"result", s(result)}, {"destination", remote ? "remote" : "local"}})
      .inc();
}

void delivery_latency(bool remote, double seconds) {
  r().histogram("postern_delivery_latency_seconds",
                "Time from queueing to successful delivery, per recipient.", latency_buckets(),
                {{"destination", remote ? "remote" : "local"}})
      .observe(seconds);
}

void rate_limit_hit(std::string_view limit) {
  r().counter("postern_rate_limit_hits_total", "Requests slowed or refused by a rate limit.",
              {{"limit", s(limit)}})
      .inc();
}

std::string reject_reason(const Reply& reply) {
  const int c = reply.code;
  const std::string& e = reply.status;
  if (c == 554 && e == "5.7.1") return "relay_denied";
  if (c == 553 && e == "5.7.1") return "sender_not_owned";
  if (c == 550 && e == "5.7.1") return "policy";
  if (e == "5.1.1") return "unknown_user";
  if (c == 530) return "auth_required";
  if (e == "5.3.4") return "message_too_large";
  if (e == "4.5.3") return "too_many_recipients";
  if (e == "4.3.1") return "storage";
  if (c == 450 && e == "4.7.1") return "rate_limited";
  if (c == 535) return "auth_failed";
  if (c == 421) return "session_limit";
  if (e.rfind("5.5.", 0) == 0) return "protocol";
  return "other";
}

}  // namespace postern::metrics
