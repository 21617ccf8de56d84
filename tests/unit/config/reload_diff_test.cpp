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
  next.relay_networks.push_back(*parse_network("192.0.2.0/24"));
  next.tls.cert = "/new/cert.pem";
  next.addresses.aliases_file = "/etc/postern/aliases";
  next.addresses.recipient_delimiter = "-";
  DkimConfig key;
  key.domain = "example.com";
  key.selector = "s2";
  key.key = "/etc/postern/dkim/s2.pem";
  next.dkim.push_back(key);  // DKIM keys are swapped by the reload
  EXPECT_TRUE(needs_restart(base(), next).empty());
}

// Each key the delivery side read at start is named on its own, so the
// operator knows which edit waits for a restart.
TEST(NeedsRestart, DeliverySettingsAreNamedOneByOne) {
  Config next = base();
  next.delivery.retry_initial = std::chrono::seconds(5);
  next.delivery.local = "lmtp:unix:/run/dovecot/lmtp";
  EXPECT_EQ(
      needs_restart(base(), next),
      (std::vector<std::string>{"[delivery] retry_initial changed", "[delivery] local changed"}));
  Config outbound = base();
  outbound.addresses.smarthost_senders["*"] = "account@provider.example";
  outbound.auth.backend = "dovecot";
  EXPECT_EQ(needs_restart(base(), outbound),
            (std::vector<std::string>{"[addresses] smarthost_senders changed",
                                      "[auth] backend changed"}));
  Config host = base();
  host.hostname = "other.example";
  ASSERT_EQ(needs_restart(base(), host).size(), 1u);
  EXPECT_TRUE(needs_restart(base(), host)[0].starts_with("hostname (for delivery"));
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
