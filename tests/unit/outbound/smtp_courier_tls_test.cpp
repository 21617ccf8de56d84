// The courier against real TLS and AUTH: aiosmtpd receivers with a
// certificate made for this run.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "outbound/smtp_courier.hpp"
#include "receiver_process.hpp"

namespace postern::outbound {
namespace {

using delivery::Outcome;
using test_support::ReceiverProcess;

std::uint16_t free_port(const char* ip) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, ip, &a.sin_addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

class NoDns : public dns::Resolver {
 public:
  explicit NoDns(std::string host = "", std::string ip = "") : host_(host), ip_(ip) {}
  dns::MxResult lookup_mx(const std::string& domain) override {
    dns::MxResult r;
    r.status = dns::Status::ok;
    r.hosts.push_back(dns::MxHost{host_, 0});
    (void)domain;
    return r;
  }
  dns::AddressResult lookup_addresses(const std::string&) override {
    return dns::AddressResult{dns::Status::ok, {ip_}, ""};
  }

 private:
  std::string host_, ip_;
};

spool::QueuedMessage queued(const std::string& rcpt) {
  spool::QueuedMessage m;
  m.id = "T1";
  m.envelope.mail_from = "alice@example.test";
  spool::RecipientStatus s;
  s.recipient.address = rcpt;
  m.recipients.push_back(s);
  return m;
}

const std::string kData = "Subject: tls\r\n\r\nover TLS\r\n";

struct Receivers {
  std::filesystem::path dir;
  std::filesystem::path cert, key;
  std::uint16_t starttls_port = 0, implicit_port = 0, open_port = 0;
  std::unique_ptr<ReceiverProcess> starttls_auth, implicit_auth, starttls_open;
  bool ok = false;
};

Receivers* receivers = nullptr;

class SmtpCourierTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    receivers = new Receivers;
    Receivers& r = *receivers;
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "postern-outbound-XXXXXX").string();
    r.dir = ::mkdtemp(tmpl.data());
    r.cert = r.dir / "cert.pem";
    r.key = r.dir / "key.pem";
    // Self-signed for the receivers' name and addresses; a CA certificate,
    // so a client can trust it directly.
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
        r.key.string() + " -out " + r.cert.string() +
        " -subj /CN=relay.test -addext subjectAltName=DNS:relay.test,DNS:mx.receiver.test,"
        "IP:127.0.0.5,IP:127.0.0.6 -addext basicConstraints=critical,CA:TRUE -days 2 "
        ">/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return;
    r.starttls_port = free_port("127.0.0.5");
    r.implicit_port = free_port("127.0.0.6");
    r.open_port = free_port("127.0.0.7");
    const std::vector<std::string> tls = {"--cert", r.cert.string(), "--key", r.key.string()};
    auto args = [&](const char* ip, std::uint16_t port, const char* mode, bool auth) {
      std::vector<std::string> a = {"--host", ip, "--port", std::to_string(port), "--tls", mode};
      a.insert(a.end(), tls.begin(), tls.end());
      if (auth) {
        a.push_back("--auth");
        a.push_back("relay-user:relay-pass");
      }
      return a;
    };
    r.starttls_auth = std::make_unique<ReceiverProcess>(
        args("127.0.0.5", r.starttls_port, "starttls", true), r.dir / "starttls");
    r.implicit_auth = std::make_unique<ReceiverProcess>(
        args("127.0.0.6", r.implicit_port, "implicit", true), r.dir / "implicit");
    r.starttls_open = std::make_unique<ReceiverProcess>(
        args("127.0.0.7", r.open_port, "starttls", false), r.dir / "open");
    const auto wait = std::chrono::seconds(15);
    r.ok = r.starttls_auth->wait_ready(wait) && r.implicit_auth->wait_ready(wait) &&
           r.starttls_open->wait_ready(wait);
  }

  static void TearDownTestSuite() {
    std::error_code ec;
    std::filesystem::remove_all(receivers->dir, ec);
    delete receivers;
    receivers = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(receivers->ok) << "aiosmtpd receivers did not start";
    config.hostname = "mx.example.test";
    config.delivery.connect_timeout = std::chrono::seconds(3);
    config.delivery.command_timeout = std::chrono::seconds(10);
  }

  config::Config config;
};

TEST_F(SmtpCourierTlsTest, OpportunisticStartTlsWithAnUntrustedCertificateStillDelivers) {
  config.delivery.remote_port = receivers->open_port;
  SmtpCourier courier(config, std::make_shared<NoDns>("mx.receiver.test", "127.0.0.7"));
  auto m = queued("bob@remote.test");
  const auto before = receivers->starttls_open->messages().size();
  auto results = courier.deliver(m, kData, {0});
  ASSERT_EQ(results.at(0).outcome, Outcome::delivered) << results[0].reply;
  const auto got = receivers->starttls_open->messages();
  ASSERT_EQ(got.size(), before + 1);
  EXPECT_NE(got.back().find("\"tls\": true"), std::string::npos) << got.back();
}

TEST_F(SmtpCourierTlsTest, SmarthostStartTlsWithAuthAndPrivateCa) {
  config.delivery.smarthost = "relay.test:" + std::to_string(receivers->starttls_port);
  config.delivery.smarthost_tls = TlsMode::starttls;
  config.delivery.smarthost_user = "relay-user";
  config.delivery.smarthost_password = "relay-pass";
  config.delivery.smarthost_ca_file = receivers->cert;
  SmtpCourier courier(config, std::make_shared<NoDns>("", "127.0.0.5"));
  auto m = queued("x@anywhere.test");
  const auto before = receivers->starttls_auth->messages().size();
  auto results = courier.deliver(m, kData, {0});
  ASSERT_EQ(results.at(0).outcome, Outcome::delivered) << results[0].reply;
  const auto got = receivers->starttls_auth->messages();
  ASSERT_EQ(got.size(), before + 1);
  EXPECT_NE(got.back().find("\"auth\": \"relay-user\""), std::string::npos) << got.back();
  EXPECT_NE(got.back().find("\"tls\": true"), std::string::npos);
}

TEST_F(SmtpCourierTlsTest, SmarthostImplicitTlsWithAuth) {
  config.delivery.smarthost = "127.0.0.6:" + std::to_string(receivers->implicit_port);
  config.delivery.smarthost_tls = TlsMode::implicit;
  config.delivery.smarthost_user = "relay-user";
  const auto pw = receivers->dir / "password";
  { std::ofstream(pw) << "relay-pass\nsecond line ignored\n"; }
  config.delivery.smarthost_password_file = pw;
  config.delivery.smarthost_ca_file = receivers->cert;
  SmtpCourier courier(config, std::make_shared<NoDns>());
  auto m = queued("x@anywhere.test");
  auto results = courier.deliver(m, kData, {0});
  ASSERT_EQ(results.at(0).outcome, Outcome::delivered) << results[0].reply;
  EXPECT_EQ(results[0].where, "127.0.0.6[127.0.0.6]:" + std::to_string(receivers->implicit_port));
}

TEST_F(SmtpCourierTlsTest, SmarthostWrongPasswordDefers) {
  config.delivery.smarthost = "relay.test:" + std::to_string(receivers->starttls_port);
  config.delivery.smarthost_user = "relay-user";
  config.delivery.smarthost_password = "wrong";
  config.delivery.smarthost_ca_file = receivers->cert;
  SmtpCourier courier(config, std::make_shared<NoDns>("", "127.0.0.5"));
  auto m = queued("x@anywhere.test");
  auto results = courier.deliver(m, kData, {0});
  EXPECT_EQ(results.at(0).outcome, Outcome::transient);
  EXPECT_NE(results[0].reply.find("authentication failed"), std::string::npos) << results[0].reply;
}

TEST_F(SmtpCourierTlsTest, SmarthostCertificateMustBeTrusted) {
  config.delivery.smarthost = "relay.test:" + std::to_string(receivers->starttls_port);
  config.delivery.smarthost_user = "relay-user";
  config.delivery.smarthost_password = "relay-pass";
  // No smarthost_ca_file: the self-signed certificate is not trusted.
  SmtpCourier courier(config, std::make_shared<NoDns>("", "127.0.0.5"));
  auto m = queued("x@anywhere.test");
  const auto before = receivers->starttls_auth->messages().size();
  auto results = courier.deliver(m, kData, {0});
  EXPECT_EQ(results.at(0).outcome, Outcome::transient);
  EXPECT_NE(results[0].reply.find("not trusted"), std::string::npos) << results[0].reply;
  EXPECT_EQ(receivers->starttls_auth->messages().size(), before);
}

}  // namespace
}  // namespace postern::outbound
