#include "outbound/smtp_courier.hpp"

#include <gtest/gtest.h>

#include <map>

#include "fake_smtp_server.hpp"

namespace postern::outbound {
namespace {

using delivery::Outcome;
using test_support::FakeSmtpServer;

class FakeResolver : public dns::Resolver {
 public:
  dns::MxResult lookup_mx(const std::string& domain) override {
    ++mx_lookups;
    const auto it = mx.find(domain);
    if (it != mx.end()) return it->second;
    dns::MxResult r;
    r.status = dns::Status::nxdomain;
    r.error = "NXDOMAIN";
    return r;
  }
  dns::AddressResult lookup_addresses(const std::string& host) override {
    const auto it = addresses.find(host);
    if (it != addresses.end()) return it->second;
    dns::AddressResult r;
    r.status = dns::Status::nxdomain;
    return r;
  }
  void add_mx(const std::string& domain, std::vector<std::pair<std::string, int>> hosts) {
    dns::MxResult r;
    r.status = dns::Status::ok;
    for (auto& [h, p] : hosts) r.hosts.push_back(dns::MxHost{h, p});
    mx[domain] = r;
  }
  void add_host(const std::string& host, std::vector<std::string> ips) {
    addresses[host] = dns::AddressResult{dns::Status::ok, std::move(ips), ""};
  }
  std::map<std::string, dns::MxResult> mx;
  std::map<std::string, dns::AddressResult> addresses;
  int mx_lookups = 0;
};

spool::QueuedMessage queued(std::vector<std::string> rcpts) {
  spool::QueuedMessage m;
  m.id = "Q1";
  m.envelope.mail_from = "alice@example.test";
  for (auto& r : rcpts) {
    spool::RecipientStatus s;
    s.recipient.address = r;
    m.recipients.push_back(s);
    m.envelope.recipients.push_back(s.recipient);
  }
  return m;
}

std::vector<std::size_t> all_of(const spool::QueuedMessage& m) {
  std::vector<std::size_t> v;
  for (std::size_t i = 0; i < m.recipients.size(); ++i) v.push_back(i);
  return v;
}

const std::string kData = "Subject: t\r\n\r\n.dot line\r\nbody\r\n";

class SmtpCourierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    primary = std::make_unique<FakeSmtpServer>("127.0.0.2", 0);
    ASSERT_TRUE(primary->ok());
    port = primary->port();
    config.hostname = "mx.example.test";
    config.delivery.remote_port = port;
    config.delivery.connect_timeout = std::chrono::seconds(2);
    config.delivery.command_timeout = std::chrono::seconds(5);
    resolver = std::make_shared<FakeResolver>();
  }

  std::unique_ptr<SmtpCourier> courier(CourierTuning tuning = {}) {
    return std::make_unique<SmtpCourier>(config, resolver, tuning);
  }

  std::unique_ptr<FakeSmtpServer> primary;
  std::uint16_t port = 0;
  config::Config config;
  std::shared_ptr<FakeResolver> resolver;
};

TEST_F(SmtpCourierTest, DeliversToTheMxWithPerRecipientResults) {
  resolver->add_mx("remote.test", {{"mx1.remote.test", 10}});
  resolver->add_host("mx1.remote.test", {"127.0.0.2"});
  auto m = queued({"bob@remote.test", "reject@remote.test", "later@remote.test"});
  auto results = courier()->deliver(m, kData, all_of(m));
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].outcome, Outcome::delivered) << results[0].reply;
  EXPECT_EQ(results[0].reply, "250 2.0.0 queued");
  EXPECT_EQ(results[0].where, "mx1.remote.test[127.0.0.2]:" + std::to_string(port));
  EXPECT_EQ(results[1].outcome, Outcome::permanent);
  EXPECT_EQ(results[2].outcome, Outcome::transient);
  const auto got = primary->messages();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].mail_from, "alice@example.test");
  EXPECT_EQ(got[0].recipients, std::vector<std::string>{"bob@remote.test"});
  // Dot-stuffed on the wire, so the receiver's line shows the doubled dot.
  EXPECT_NE(got[0].data.find("..dot line"), std::string::npos);
}

TEST_F(SmtpCourierTest, FallsBackToTheNextMxWhenTheFirstRefuses) {
  // Nothing listens on 127.0.0.9 at that port: connection refused.
  resolver->add_mx("remote.test", {{"dead.remote.test", 5}, {"mx1.remote.test", 10}});
  resolver->add_host("dead.remote.test", {"127.0.0.9"});
  resolver->add_host("mx1.remote.test", {"127.0.0.2"});
  auto m = queued({"bob@remote.test"});
  auto results = courier()->deliver(m, kData, all_of(m));
  EXPECT_EQ(results.at(0).outcome, Outcome::delivered) << results[0].reply;
  EXPECT_EQ(primary->messages().size(), 1u);
}

TEST_F(SmtpCourierTest, MxHostsAreTriedInTheGivenOrder) {
  FakeSmtpServer second("127.0.0.3", port);
  ASSERT_TRUE(second.ok());
  resolver->add_mx("remote.test", {{"mx2.remote.test", 5}, {"mx1.remote.test", 10}});
  resolver->add_host("mx1.remote.test", {"127.0.0.2"});
  resolver->add_host("mx2.remote.test", {"127.0.0.3"});
  auto m = queued({"bob@remote.test"});
  auto results = courier()->deliver(m, kData, all_of(m));
  EXPECT_EQ(results.at(0).outcome, Outcome::delivered);
  EXPECT_EQ(second.messages().size(), 1u);
  EXPECT_EQ(primary->messages().size(), 0u);
}

TEST_F(SmtpCourierTest, TemporaryBannerFailureMovesOnToTheNextHost) {
  FakeSmtpServer busy("127.0.0.3", port, "PIPELINING", "421 4.3.2 busy");
  ASSERT_TRUE(busy.ok());
  resolver->add_mx("remote.test", {{"busy.remote.test", 5}, {"mx1.remote.test", 10}});
  resolver->add_host("busy.remote.test", {"127.0.0.3"});
  resolver->add_host("mx1.remote.test", {"127.0.0.2"});
  auto m = queued({"bob@remote.test"});
  auto results = courier()->deliver(m, kData, all_of(m));
  EXPECT_EQ(results.at(0).outcome, Outcome::delivered);
  EXPECT_EQ(busy.connections(), 1);
}

TEST_F(SmtpCourierTest, AllHostsFailingIsTransient) {
  resolver->add_mx("remote.test", {{"dead.remote.test", 5}});
  resolver->add_host("dead.remote.test", {"127.0.0.9"});
  auto m = queued({"bob@remote.test"});
  auto results = courier()->deliver(m, kData, all_of(m));
  EXPECT_EQ(results.at(0).outcome, Outcome::transient);
  EXPECT_NE(results[0].reply.find("dead.remote.test[127.0.0.9]"), std::string::npos)
      << results[0].reply;
}

TEST_F(SmtpCourierTest, DnsOutcomes) {
  resolver->mx["nullmx.test"] = dns::MxResult{dns::Status::null_mx, {}, ""};
  resolver->mx["servfail.test"] = dns::MxResult{dns::Status::temporary_failure, {}, "SERVFAIL"};
  auto m = queued({"a@nullmx.test", "b@nowhere.test", "c@servfail.test"});
  auto results = courier()->deliver(m, kData, all_of(m));
  EXPECT_EQ(results[0].outcome, Outcome::permanent);
  EXPECT_NE(results[0].reply.find("5.1.10"), std::string::npos);
  EXPECT_NE(results[0].reply.find("RFC 7505"), std::string::npos);
  EXPECT_EQ(results[1].outcome, Outcome::permanent);
  EXPECT_EQ(results[2].outcome, Outcome::transient);
  EXPECT_NE(results[2].reply.find("SERVFAIL"), std::string::npos);
}

TEST_F(SmtpCourierTest, RecipientsAreGroupedByDomainInTheirOrder) {
  FakeSmtpServer second("127.0.0.3", port);
  resolver->add_mx("one.test", {{"mx1.remote.test", 10}});
  resolver->add_mx("two.test", {{"mx2.remote.test", 10}});
  resolver->add_host("mx1.remote.test", {"127.0.0.2"});
  resolver->add_host("mx2.remote.test", {"127.0.0.3"});
  auto m = queued({"a@one.test", "b@two.test", "c@ONE.test", "d@two.test"});
  // Only some recipients are pending: indexes 1..3.
  auto results = courier()->deliver(m, kData, {1, 2, 3});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].where.substr(0, 15), "mx2.remote.test");
  EXPECT_EQ(results[1].where.substr(0, 15), "mx1.remote.test");
  EXPECT_EQ(results[2].where.substr(0, 15), "mx2.remote.test");
  ASSERT_EQ(primary->messages().size(), 1u);
  EXPECT_EQ(primary->messages()[0].recipients, std::vector<std::string>{"c@ONE.test"});
  ASSERT_EQ(second.messages().size(), 1u);
  EXPECT_EQ(second.messages()[0].recipients.size(), 2u);
}

TEST_F(SmtpCourierTest, TlsRequiredRefusesAReceiverWithoutStartTls) {
  config.delivery.tls_policy["remote.test"] = TlsPolicy::required;
  resolver->add_mx("remote.test", {{"mx1.remote.test", 10}});
  resolver->add_host("mx1.remote.test", {"127.0.0.2"});
  auto m = queued({"bob@remote.test"});
  auto results = courier()->deliver(m, kData, all_of(m));
  EXPECT_EQ(results.at(0).outcome, Outcome::transient);
  EXPECT_NE(results[0].reply.find("TLS required"), std::string::npos) << results[0].reply;
  EXPECT_TRUE(primary->messages().empty());
  EXPECT_EQ(primary->transcript().find("MAIL"), std::string::npos);
}

TEST_F(SmtpCourierTest, ConsecutiveMessagesReuseOneConnection) {
  resolver->add_mx("remote.test", {{"mx1.remote.test", 10}});
  resolver->add_host("mx1.remote.test", {"127.0.0.2"});
  auto c = courier();
  for (int i = 0; i < 4; ++i) {
    auto m = queued({"bob@remote.test"});
    auto results = c->deliver(m, kData, all_of(m));
    ASSERT_EQ(results.at(0).outcome, Outcome::delivered) << results[0].reply;
  }
  EXPECT_EQ(primary->messages().size(), 4u);
  EXPECT_EQ(primary->connections(), 1);
  EXPECT_EQ(c->open_connections(), 1u);
}

TEST_F(SmtpCourierTest, IdleConnectionsAreClosedAfterTheKeepTime) {
  resolver->add_mx("remote.test", {{"mx1.remote.test", 10}});
  resolver->add_host("mx1.remote.test", {"127.0.0.2"});
  auto c = courier(CourierTuning{std::chrono::milliseconds(100)});
  auto m = queued({"bob@remote.test"});
  ASSERT_EQ(c->deliver(m, kData, all_of(m)).at(0).outcome, Outcome::delivered);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (c->open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(c->open_connections(), 0u);
  ASSERT_EQ(c->deliver(m, kData, all_of(m)).at(0).outcome, Outcome::delivered);
  EXPECT_EQ(primary->connections(), 2);
  EXPECT_NE(primary->transcript().find("QUIT"), std::string::npos);
}

TEST_F(SmtpCourierTest, StaleReusedConnectionIsReplacedTransparently) {
  resolver->add_mx("remote.test", {{"mx1.remote.test", 10}});
  resolver->add_host("mx1.remote.test", {"127.0.0.2"});
  auto c = courier();
  auto m = queued({"bob@remote.test"});
  ASSERT_EQ(c->deliver(m, kData, all_of(m)).at(0).outcome, Outcome::delivered);
  // The receiver restarts: the pooled connection is dead.
  primary.reset();
  primary = std::make_unique<FakeSmtpServer>("127.0.0.2", port);
  ASSERT_TRUE(primary->ok());
  auto results = c->deliver(m, kData, all_of(m));
  EXPECT_EQ(results.at(0).outcome, Outcome::delivered) << results[0].reply;
  EXPECT_EQ(primary->messages().size(), 1u);
}

TEST_F(SmtpCourierTest, SmarthostFallbackPortCarriesTheMail) {
  // The smarthost's main port refuses; the fallback port is the receiver.
  FakeSmtpServer refusing_placeholder("127.0.0.4", 0);
  const std::uint16_t closed_port = refusing_placeholder.port();
  config.delivery.smarthost = "127.0.0.2:" + std::to_string(closed_port);
  config.delivery.smarthost_tls = TlsMode::none;
  config.delivery.fallback_ports = {port};
  auto c = courier();
  auto m = queued({"x@anywhere.test", "y@elsewhere.test"});
  auto results = c->deliver(m, kData, all_of(m));
  EXPECT_EQ(results.at(0).outcome, Outcome::delivered) << results[0].reply;
  EXPECT_EQ(results.at(1).outcome, Outcome::delivered);
  EXPECT_EQ(resolver->mx_lookups, 0);
  ASSERT_EQ(primary->messages().size(), 1u);
  EXPECT_EQ(primary->messages()[0].recipients.size(), 2u);
}

TEST_F(SmtpCourierTest, SmarthostWithStartTlsMandatoryRefusesPlaintext) {
  config.delivery.smarthost = "127.0.0.2:" + std::to_string(port);
  config.delivery.smarthost_tls = TlsMode::starttls;
  config.delivery.smarthost_user = "relay";
  config.delivery.smarthost_password = "secret";
  auto m = queued({"x@anywhere.test"});
  auto results = courier()->deliver(m, kData, all_of(m));
  EXPECT_EQ(results.at(0).outcome, Outcome::transient);
  EXPECT_EQ(primary->transcript().find("AUTH"), std::string::npos);
  EXPECT_TRUE(primary->messages().empty());
}

TEST_F(SmtpCourierTest, BadSmarthostSettingsThrowAtStartUp) {
  config.delivery.smarthost = "no-port";
  EXPECT_THROW(courier(), std::runtime_error);
  config.delivery.smarthost = "relay.test:587";
  config.delivery.smarthost_user = "u";
  config.delivery.smarthost_password_file = "/nonexistent/password";
  EXPECT_THROW(courier(), std::runtime_error);
}

}  // namespace
}  // namespace postern::outbound
