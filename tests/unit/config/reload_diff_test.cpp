#include "config/reload_diff.hpp"

#include <gtest/gtest.h>

namespace postern::config {
namespace {

Config base() {
  Config c;
  c.data_dir = "/var/lib/postern";
  ListenerConfig l;
  l.address = "0.0.0.0:25";
  l.role = Role::relay;
  l.tls = TlsMode::starttls;
  c.listeners.push_back(l);
  return c;
}

TEST(NeedsRestart, ReloadableChangesNeedNone) {
  Config next = base();
  next.limits.max_sessions = 5;
  next.hostname = "other.example";
  next.tls.cert = "/new/cert.pem";
  EXPECT_TRUE(needs_restart(base(), next).empty());
}

TEST(NeedsRestart, DeliverySettingsNeedOne) {
  Config next = base();
  next.delivery.retry_initial = std::chrono::seconds(5);
  EXPECT_EQ(needs_restart(base(), next),
            std::vector<std::string>{"[delivery] settings (or local_domains for delivery) changed"});
}

TEST(NeedsRestart, ListenerChangesAreNamed) {
  Config next = base();
  next.listeners[0].tls = TlsMode::none;
  ListenerConfig added;
  added.address = "0.0.0.0:587";
  next.listeners.push_back(added);
  const auto out = needs_restart(base(), next);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], "listener 0.0.0.0:25 changed (role, tls or insecure)");
  EXPECT_EQ(out[1], "listener 0.0.0.0:587 added");
  Config removed = base();
  removed.listeners.clear();
  EXPECT_EQ(needs_restart(base(), removed),
            std::vector<std::string>{"listener 0.0.0.0:25 removed"});
}

TEST(NeedsRestart, StartOnlySettings) {
  Config next = base();
  next.data_dir = "/srv/mail";
  next.user = "mail";
  next.metrics.address = "127.0.0.1:9325";
  EXPECT_EQ(
      needs_restart(base(), next),
      (std::vector<std::string>{"data_dir changed", "user changed", "[metrics] address changed"}));
}

}  // namespace
}  // namespace postern::config
